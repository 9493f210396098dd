// Azure Service Bus for VideoCallbacks: the completion topic (duplicate detection on, so re-sent
// MessageIds are dropped), example subscriptions with SQL filters, and a send-only SAS rule.
// Deploy: az deployment group create -g <rg> -f infra/main.bicep -p namespaceName=<unique-name>

@description('Globally unique Service Bus namespace name.')
param namespaceName string

param location string = resourceGroup().location

@allowed([ 'Standard', 'Premium' ])
param sku string = 'Standard'

param topicName string = 'video-extensions'

@description('How long the broker remembers MessageIds to drop re-sends (replays inside this window are dropped).')
param duplicateDetectionWindow string = 'PT1H'

resource ns 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: namespaceName
  location: location
  sku: { name: sku, tier: sku }
  properties: { minimumTlsVersion: '1.2' }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: ns
  name: topicName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    supportOrdering: true
    defaultMessageTimeToLive: 'P14D'
  }
}

// The service only sends: give it a send-only rule (or, better, Entra ID with 'Azure Service Bus Data Sender').
resource sendRule 'Microsoft.ServiceBus/namespaces/topics/authorizationRules@2022-10-01-preview' = {
  parent: topic
  name: 'videocallbacks-send'
  properties: { rights: [ 'Send' ] }
}

// Every completed extension, any provider.
resource completed 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: topic
  name: 'completed'
  properties: { maxDeliveryCount: 10, deadLetteringOnFilterEvaluationExceptions: true }
}

resource completedRule 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = {
  parent: completed
  name: 'completed-only'
  properties: { filterType: 'SqlFilter', sqlFilter: { sqlExpression: 'status = \'completed\'' } }
}

// Completed or failed Kie.ai jobs, in order per job (sessions: SessionId = jobId).
resource kieTerminal 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: topic
  name: 'kie-terminal'
  properties: { requiresSession: true, maxDeliveryCount: 10 }
}

resource kieTerminalRule 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = {
  parent: kieTerminal
  name: 'kie-terminal'
  properties: { filterType: 'SqlFilter', sqlFilter: { sqlExpression: 'provider = \'kie\' AND status IN (\'completed\', \'failed\')' } }
}

output topicEndpoint string = '${ns.properties.serviceBusEndpoint}${topicName}'
