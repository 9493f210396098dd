// Parameters for infra/main.bicep. Secrets are read from environment variables at deploy time, so none
// is ever written to this file:
//   export VC_POSTGRES_PASSWORD=... VC_CLIENT_API_KEY=... VC_ADMIN_API_KEY=...   (API keys: 24+ characters)
//   export VC_KIE_API_KEY=... VC_KIE_WEBHOOK_HMAC_KEY=... VC_APIFRAME_API_KEY=... VC_NANOGPT_API_KEY=...  (optional)
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.bicepparam
using 'main.bicep'

param name = 'videocallbacks'
param image = readEnvironmentVariable('VC_IMAGE', 'ghcr.io/example/videocallbacks:latest')
param containerRegistryName = readEnvironmentVariable('VC_ACR_NAME', '')

param minReplicas = 2
param maxReplicas = 10
param concurrentRequests = 100

param serviceBusSku = 'Standard'
param topicName = 'video-extensions'
param duplicateDetectionWindow = 'PT1H'

param postgresVersion = '15'
param postgresAdminPassword = readEnvironmentVariable('VC_POSTGRES_PASSWORD')

param storageSku = 'Standard_LRS'
param videoContainerName = 'videos'
param coolAfterDays = 30
param deleteAfterDays = 0

param clientApiKey = readEnvironmentVariable('VC_CLIENT_API_KEY')
param adminApiKey = readEnvironmentVariable('VC_ADMIN_API_KEY')
param kieApiKey = readEnvironmentVariable('VC_KIE_API_KEY', '')
param kieWebhookHmacKey = readEnvironmentVariable('VC_KIE_WEBHOOK_HMAC_KEY', '')
param apiframeApiKey = readEnvironmentVariable('VC_APIFRAME_API_KEY', '')
param nanoGptApiKey = readEnvironmentVariable('VC_NANOGPT_API_KEY', '')
