// Azure Service Bus: the `video-extensions` topic the outbox relay publishes to, example subscriptions
// with SQL filters over the message's application properties (type, provider, status), one subscription
// per named client (property `client`), and the app identity's send-only role on the topic (Entra ID:
// production needs no connection string).

param namespaceName string
param location string
param tags object = {}

@allowed([ 'Standard', 'Premium' ])
param sku string = 'Standard'

@description('Messaging units (Premium only).')
@allowed([ 1, 2, 4, 8, 16 ])
param premiumCapacity int = 1

param topicName string = 'video-extensions'

@description('How long the broker remembers MessageIds: a re-sent event id (crash recovery, replay) inside this window is dropped. ISO 8601, 20 s to 7 days.')
param duplicateDetectionWindow string = 'PT1H'

@description('Tenants (a named client of Auth:Clients:{name}:Keys, or \'default\' for the unnamed keys): each gets a subscription client-<name> that sees only its events (SQL filter client = \'<name>\'). Names of at most 43 characters (letters, digits, \'.\', \'-\', \'_\').')
param clientNames string[] = []

@description('Principal (the app\'s managed identity) granted "Azure Service Bus Data Sender" on the topic.')
param senderPrincipalId string

// Built-in role "Azure Service Bus Data Sender".
var dataSenderRoleId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'

resource ns 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: { name: sku, tier: sku, capacity: sku == 'Premium' ? premiumCapacity : null }
  properties: {
    minimumTlsVersion: '1.2'
    // Entra ID only: no SAS keys to leak. Consumers get "Azure Service Bus Data Receiver" on their subscription.
    disableLocalAuth: true
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2026-01-01' = {
  parent: ns
  name: topicName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    supportOrdering: true
    defaultMessageTimeToLive: 'P14D'
    maxSizeInMegabytes: 1024
  }
}

resource senderRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: topic
  name: guid(topic.id, senderPrincipalId, dataSenderRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSenderRoleId)
    principalId: senderPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Example consumers. Resource Manager drops a subscription's implicit '$Default' rule (1=1) when the
// first rule is added, so each subscription sees only what its SQL filter matches.
var subscriptions = [
  {
    name: 'completed'
    rule: 'completed-only'
    filter: 'status = \'completed\''
    sessions: false
  }
  {
    name: 'failed'
    rule: 'failed-only'
    filter: 'status = \'failed\''
    sessions: false
  }
  {
    // Every Kie.ai event, in order per job: the service sets SessionId = jobId, so a session receiver
    // sees submitted -> progress -> completed|failed of one job in order.
    name: 'kie-by-job'
    rule: 'kie-only'
    filter: 'provider = \'kie\''
    sessions: true
  }
]

// One per tenant: the service stamps every message with the application property `client`, so a tenant
// reads its own subscription and never sees another's events.
var clientSubscriptions = [for c in clientNames: {
  name: 'client-${c}'
  rule: 'client-only'
  filter: 'client = \'${c}\''
  sessions: false
}]

var allSubscriptions = concat(subscriptions, clientSubscriptions)

resource subs 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2026-01-01' = [for s in allSubscriptions: {
  parent: topic
  name: s.name
  properties: {
    requiresSession: s.sessions
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    deadLetteringOnFilterEvaluationExceptions: true
  }
}]

resource rules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2026-01-01' = [for (s, i) in allSubscriptions: {
  parent: subs[i]
  name: s.rule
  properties: {
    filterType: 'SqlFilter'
    sqlFilter: { sqlExpression: s.filter }
  }
}]

output namespaceName string = ns.name
output fullyQualifiedNamespace string = '${ns.name}.servicebus.windows.net'
output topicName string = topic.name
