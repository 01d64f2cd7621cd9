using MudBlazor;

namespace VoiceStudio.Web.Components.Layout;

/// <summary>The one place the look is set.</summary>
public static class VoiceStudioTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight { Primary = "#3f51b5", Secondary = "#00897b", AppbarBackground = "#283593" },
        PaletteDark = new PaletteDark { Primary = "#7986cb", Secondary = "#4db6ac" },
    };
}
