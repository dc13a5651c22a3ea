// Backups of the ledger (Azure SQL): the point-in-time restore window and long-term retention.
// Restore steps, and the RPO and RTO each gives: docs/operations.md, "Backups and restore".

@description('The logical server holding the ledger')
param serverName string

@description('The ledger database')
param databaseName string

@minValue(7)
@maxValue(35)
@description('Point-in-time restore window, in days')
param pitrDays int

@description('Keep weekly, monthly and yearly full backups beyond the restore window')
param longTermRetention bool

// Full backups weekly, differentials every 12 hours, logs every 5-10 minutes: any second of the
// window can be restored to a new database.
resource shortTerm 'Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies@2023-08-01-preview' = {
  name: '${serverName}/${databaseName}/default' // a child of the ledger, named by path
  properties: {
    retentionDays: pitrDays
    diffBackupIntervalInHours: 12
  }
}

// Orders, tickets and payments are financial records: weekly backups for 5 weeks, monthly for a
// year, the first backup of each year for 5 years. 'PT0S' turns a period off.
resource longTerm 'Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies@2023-08-01-preview' = {
  name: '${serverName}/${databaseName}/default'
  properties: {
    weeklyRetention: longTermRetention ? 'P5W' : 'PT0S'
    monthlyRetention: longTermRetention ? 'P12M' : 'PT0S'
    yearlyRetention: longTermRetention ? 'P5Y' : 'PT0S'
    weekOfYear: 1
  }
  dependsOn: [shortTerm]
}

output pitrDays int = pitrDays
