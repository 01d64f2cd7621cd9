using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace VoiceStudio.Tests.Components;

/// <summary>
/// A bUnit context with MudBlazor's services; MudBlazor's own JavaScript calls are answered loosely (there is no browser).
/// MudBlazor's services only dispose asynchronously, so the context is disposed through xUnit's async lifetime.
/// </summary>
public abstract class ComponentContext : IAsyncLifetime
{
    protected BunitContext Context { get; } = new();

    protected ComponentContext()
    {
        Context.Services.AddMudServices();
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    protected IRenderedComponent<T> Render<T>(Action<ComponentParameterCollectionBuilder<T>> parameters) where T : IComponent =>
        Context.Render(parameters);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Context.DisposeAsync();
}
