using VoiceStudio.Web;

return await CommandLine.RunAsync(args);
