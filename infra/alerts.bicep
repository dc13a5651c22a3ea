// Alerts of Leap Ticketing: one action group (email) and the rules docs/operations.md
// explains, each with what it means and what to do. Deployed by resources.bicep.
//
// Signals and where they come from:
// - Redis unavailable / breaker open: the app's own counters (leap.breaker.trips with
//   dependency=redis, leap.holds.degraded) in Application Insights customMetrics. Azure
//   Managed Redis publishes no availability metric (its metrics are hits, misses, latency,
//   read/write bytes, connected clients, CPU, server load, memory, keys), and the app's
//   breaker sees an outage within seconds from where it matters.
// - payments dead-letter: Service Bus DeadletteredMessages on the payments queue.
// - 5xx rate: the function app's HTTP requests in Application Insights.
// - finalize latency p95: the `finalize` spans (CONSUMER spans land in `requests`). The
//   leap.finalize.duration histogram reaches customMetrics only as per-interval sum, count,
//   min and max, from which no percentile can be computed.
// - health check: a standard availability test on /api/health/ready (Flex Consumption apps
//   have no platform health check); it answers 200 while degraded, 503 when not ready.

param location string
param tags object
param token string
@description('Where alerts are emailed; empty: the action group has no receiver yet')
param receiverEmail string
param insightsId string
param busId string
param paymentsQueue string
@description('https URL of the readiness endpoint, e.g. https://<app>/api/health/ready')
param readyUrl string

resource ops 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-leap-${token}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'leap-ops'
    enabled: true
    emailReceivers: empty(receiverEmail) ? [] : [
      { name: 'operations', emailAddress: receiverEmail, useCommonAlertSchema: true }
    ]
  }
}

// ---- log alerts on Application Insights (each query returns a row only when it fires) ----

var logAlerts = [
  {
    name: 'redis-unavailable'
    displayName: 'Redis unavailable: circuit breaker open, sales degraded'
    description: 'The app tripped its Redis circuit breaker or served holds in degraded (SQL) mode in the last 5 minutes. Runbook: docs/operations.md#redis-unavailable'
    severity: 1
    frequency: 'PT1M'
    window: 'PT5M'
    query: '''
customMetrics
| where (name == "leap.breaker.trips" and tostring(customDimensions["dependency"]) == "redis")
    or name == "leap.holds.degraded"
| summarize events = sum(valueSum)
| where events > 0
'''
  }
  {
    name: 'http-5xx-rate'
    displayName: 'API 5xx rate above 5%'
    description: 'More than 5% of at least 20 API requests answered 5xx in the last 5 minutes. Runbook: docs/operations.md#api-5xx-rate'
    severity: 1
    frequency: 'PT1M'
    window: 'PT5M'
    query: '''
requests
| where isnotempty(url)
| summarize total = count(), failed = countif(toint(resultCode) >= 500)
| where total >= 20 and failed * 100.0 / total > 5
'''
  }
  {
    name: 'finalize-latency-p95'
    displayName: 'Finalize latency p95 above 5 s'
    description: 'The 95th percentile of payment finalization (charge + ledger write) exceeded 5 s over at least 20 payments in 15 minutes. Runbook: docs/operations.md#finalize-latency'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: '''
requests
| where name == "finalize"
| summarize p95 = percentile(duration, 95), payments = count()
| where payments >= 20 and p95 > 5000
'''
  }
  {
    name: 'checkout-outbox-relaying'
    displayName: 'Checkout outbox relaying payment messages'
    description: 'The outbox relay published payment messages that their checkout could not (crashed instances or a refusing queue) in the last 15 minutes. Runbook: docs/operations.md#checkout-outbox'
    severity: 3
    frequency: 'PT5M'
    window: 'PT15M'
    query: '''
traces
| where message startswith "outbox: published" or message startswith "outbox: publishing"
| summarize relayed = count()
| where relayed > 0
'''
  }
]

resource queryAlerts 'Microsoft.Insights/scheduledQueryRules@2021-08-01' = [for alert in logAlerts: {
  name: 'alert-leap-${alert.name}-${token}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: alert.displayName
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [insightsId]
    evaluationFrequency: alert.frequency
    windowSize: alert.window
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: [ops.id] }
  }
}]

// ---- metric alert: payments in the dead-letter queue ------------------------------------------

resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-leap-payments-dead-letters-${token}'
  location: 'global'
  tags: tags
  properties: {
    description: 'Payment messages reached the dead-letter queue of ${paymentsQueue} (finalize failed maxDeliveryCount times). Runbook: docs/operations.md#payments-dead-letters'
    severity: 2
    enabled: true
    scopes: [busId]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'dead-lettered-payments'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [{ name: 'EntityName', operator: 'Include', values: [paymentsQueue] }]
          timeAggregation: 'Maximum'
          operator: 'GreaterThan'
          threshold: 0
        }
      ]
    }
    autoMitigate: true
    actions: [{ actionGroupId: ops.id }]
  }
}

// ---- the health check: an availability test on /api/health/ready --------------------------------

resource readiness 'Microsoft.Insights/webtests@2022-06-15' = {
  name: 'webtest-leap-ready-${token}'
  location: location
  // The portal links a test to its Application Insights resource through this tag.
  tags: union(tags, { 'hidden-link:${insightsId}': 'Resource' })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: 'webtest-leap-ready-${token}'
    Name: 'Leap API readiness'
    Description: 'GET /api/health/ready answers 200 (ready or degraded)'
    Kind: 'standard'
    Enabled: true
    Frequency: 300
    Timeout: 30
    RetryEnabled: true
    Locations: [
      { Id: 'us-va-ash-azr' }
      { Id: 'emea-nl-ams-azr' }
      { Id: 'apac-sg-sin-azr' }
    ]
    Request: {
      RequestUrl: readyUrl
      HttpVerb: 'GET'
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource readinessAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-leap-readiness-${token}'
  location: 'global'
  tags: tags
  properties: {
    description: 'GET /api/health/ready failed from 2 of 3 test locations: the API is down or not ready (503). Runbook: docs/operations.md#health-check'
    severity: 1
    enabled: true
    scopes: [readiness.id, insightsId]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: readiness.id
      componentId: insightsId
      failedLocationCount: 2
    }
    autoMitigate: true
    actions: [{ actionGroupId: ops.id }]
  }
}

output actionGroupId string = ops.id
