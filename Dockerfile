# syntax=docker/dockerfile:1
# Build: docker build -t videocallbacks .
# Run:   docker run -p 8080:8080 -e Callbacks__PublicBaseUrl=https://callbacks.example.com \
#          -e Auth__ApiKeys__0=... -e Auth__AdminApiKeys__0=... -v vc-data:/app/data videocallbacks

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/VideoCallbacks.Api/VideoCallbacks.Api.csproj src/VideoCallbacks.Api/
COPY src/VideoCallbacks.Simulator/VideoCallbacks.Simulator.csproj src/VideoCallbacks.Simulator/
RUN dotnet restore src/VideoCallbacks.Api/VideoCallbacks.Api.csproj
COPY src/VideoCallbacks.Api/ src/VideoCallbacks.Api/
COPY src/VideoCallbacks.Simulator/ src/VideoCallbacks.Simulator/
RUN dotnet publish src/VideoCallbacks.Api/VideoCallbacks.Api.csproj -c Release -o /app --no-restore /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's built-in non-root user; the SQLite default lives in /app/data (mount a volume there).
RUN mkdir -p /app/data && chown -R $APP_UID /app/data
USER $APP_UID
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
ENTRYPOINT ["dotnet", "VideoCallbacks.Api.dll"]
