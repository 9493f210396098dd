// Container Apps environment (logs to Log Analytics; the managed OpenTelemetry agent forwards the app's
// OTLP traces and logs to Application Insights) and the VideoCallbacks app: at least two replicas behind
// the built-in load balancer, liveness /healthz, readiness /readyz, an HTTP scale rule, secrets read from
// Key Vault with the user-assigned identity, and no Service Bus connection string (Entra ID).

param environmentName string
param appName string
param location string
param tags object = {}

param image string
@description('Registry server to pull the image from with the identity (grant it AcrPull there); empty for a public image.')
param registryServer string = ''

param workspaceName string
@secure()
param appInsightsConnectionString string

param identityId string
param identityClientId string

param keyVaultUri string
@description('Key Vault secret names this deployment created, by app setting. See main.bicep.')
param secretSettings array

@description('Plain (non-secret) app settings: [{ name, value }] with names in environment-variable form (Section__Key).')
param settings array

@description('Callbacks:PublicBaseUrl override (custom domain); empty: https://<app>.<environment default domain>.')
param publicBaseUrl string = ''

@minValue(2)
param minReplicas int = 2
param maxReplicas int = 10
@description('Concurrent HTTP requests per replica before the HTTP scale rule adds one.')
param concurrentRequests int = 100

param cpu string = '1.0'
param memory string = '2Gi'

@description('Seconds between SIGTERM and SIGKILL; keep HostOptions:ShutdownTimeout below it.')
param terminationGracePeriodSeconds int = 30

var port = 8080

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2026-07-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    appInsightsConfiguration: { connectionString: appInsightsConnectionString }
    openTelemetryConfiguration: {
      tracesConfiguration: { destinations: [ 'appInsights' ] }
      logsConfiguration: { destinations: [ 'appInsights' ] }
    }
    workloadProfiles: [ { name: 'Consumption', workloadProfileType: 'Consumption' } ]
  }
}

// The app's own FQDN is <app name>.<environment default domain>; computed here because an app cannot
// read its own ingress FQDN while it is being created.
var callbackBaseUrl = empty(publicBaseUrl) ? 'https://${appName}.${environment.properties.defaultDomain}' : publicBaseUrl

var secrets = [for s in secretSettings: {
  name: s.secret
  keyVaultUrl: '${keyVaultUri}secrets/${s.secret}'
  identity: identityId
}]

var secretEnv = [for s in secretSettings: { name: s.name, secretRef: s.secret }]

var baseEnv = [
  { name: 'AZURE_CLIENT_ID', value: identityClientId } // DefaultAzureCredential picks the user-assigned identity
  { name: 'Callbacks__PublicBaseUrl', value: callbackBaseUrl }
  { name: 'OTEL_SERVICE_NAME', value: appName }
]

resource app 'Microsoft.App/containerApps@2026-07-01' = {
  name: appName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
        traffic: [ { latestRevision: true, weight: 100 } ]
      }
      secrets: secrets
      registries: empty(registryServer) ? [] : [ { server: registryServer, identity: identityId } ]
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'videocallbacks'
          image: image
          resources: { cpu: json(cpu), memory: memory }
          env: concat(baseEnv, settings, secretEnv)
          probes: [
            {
              // Start-up runs migrations: give it up to a minute (10 x 6 s; Container Apps allows at most 10 failures).
              type: 'Startup'
              httpGet: { path: '/healthz', port: port }
              periodSeconds: 6
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              httpGet: { path: '/healthz', port: port }
              periodSeconds: 10
              timeoutSeconds: 5
              failureThreshold: 3
            }
            {
              // Not ready (store unreachable, bus misconfigured): taken out of the load balancer, not restarted.
              type: 'Readiness'
              httpGet: { path: '/readyz', port: port }
              periodSeconds: 5
              timeoutSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: { metadata: { concurrentRequests: string(concurrentRequests) } }
          }
        ]
      }
    }
  }
}

output environmentName string = environment.name
output appName string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
output callbackBaseUrl string = callbackBaseUrl
