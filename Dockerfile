# syntax=docker/dockerfile:1
# Build: docker build -t videocallbacks .
# Run:   docker run -p 8080:8080 -e Callbacks__PublicBaseUrl=https://callbacks.example.com \
#          -e Auth__ApiKeys__0=... -e Auth__AdminApiKeys__0=... -v vc-data:/app/data videocallbacks
# Every setting comes from environment variables (Section__Key), see README "Configuration".
# CI has no Docker engine: .ci/image-check.sh runs this file's `dotnet publish` and starts the output with
# this image's environment and HEALTHCHECK command. Keep the two in step (the script checks the lines below).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/VideoCallbacks.Api/VideoCallbacks.Api.csproj src/VideoCallbacks.Api/
COPY src/VideoCallbacks.Simulator/VideoCallbacks.Simulator.csproj src/VideoCallbacks.Simulator/
COPY src/VideoCallbacks.Contracts/VideoCallbacks.Contracts.csproj src/VideoCallbacks.Contracts/
RUN dotnet restore src/VideoCallbacks.Api/VideoCallbacks.Api.csproj
COPY src/VideoCallbacks.Api/ src/VideoCallbacks.Api/
COPY src/VideoCallbacks.Simulator/ src/VideoCallbacks.Simulator/
COPY src/VideoCallbacks.Contracts/ src/VideoCallbacks.Contracts/
RUN dotnet publish src/VideoCallbacks.Api/VideoCallbacks.Api.csproj -c Release -o /app --no-restore /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's built-in non-root user; the SQLite default lives in /app/data (mount a volume there).
RUN mkdir -p /app/data && chown -R $APP_UID /app/data
USER $APP_UID
# One port. ASPNETCORE_HTTP_PORTS (not ASPNETCORE_URLS) so a platform can still override the address.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
# No curl in the runtime image: the app checks its own /healthz (on ASPNETCORE_HTTP_PORTS/URLS) and exits 0/1
# without starting a second host.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["dotnet", "VideoCallbacks.Api.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "VideoCallbacks.Api.dll"]
