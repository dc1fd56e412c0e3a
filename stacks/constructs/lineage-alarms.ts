import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** CloudWatch namespace of the lineage metrics derived from the ingestion function's logs. */
export const lineageMetricsNamespace = 'DataKit/Lineage';

export interface LineageAlarmsProps {
  /** The `lineage-ingest` function. */
  readonly function: IFunction;
  /** Its log group (structured JSON lines from Powertools Logger). */
  readonly logGroup: ILogGroup;
  /** Refused events (4xx) in 5 minutes that raise the alarm. @default 50 */
  readonly refusedThreshold?: number;
}

/**
 * Alarms on OpenLineage ingestion: the function failing (Lambda `Errors`: crashes, timeouts), events
 * failing (5xx answered — storage, bus or contention; producers retry them) and many events refused
 * (4xx — a producer sending malformed events loses lineage until it is fixed). The two event metrics
 * come from metric filters on the handler's log lines (`request failed`, `request refused`).
 */
export class LineageAlarms extends Construct {
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: LineageAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const failed = new MetricFilter(this, 'FailedEventsFilter', {
      logGroup: props.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', 'request failed'),
      metricNamespace: lineageMetricsNamespace,
      metricName: 'IngestionFailures',
      metricValue: '1',
      defaultValue: 0,
    }).metric({ statistic: 'Sum', period });
    const refused = new MetricFilter(this, 'RefusedEventsFilter', {
      logGroup: props.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', 'request refused'),
      metricNamespace: lineageMetricsNamespace,
      metricName: 'RefusedEvents',
      metricValue: '1',
      defaultValue: 0,
    }).metric({ statistic: 'Sum', period });

    this.alarms = [
      new Alarm(this, 'FunctionErrorsAlarm', {
        alarmDescription: 'lineage-ingest crashed or timed out (Lambda Errors); producers get 5xx and retry',
        metric: props.function.metricErrors({ statistic: 'Sum', period }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'IngestionFailuresAlarm', {
        alarmDescription: 'OpenLineage events answered 5xx (storage, bus or contention) in 5 minutes',
        metric: failed,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'RefusedEventsAlarm', {
        alarmDescription: 'Many OpenLineage events refused (4xx): a producer sends malformed events',
        metric: refused,
        threshold: props.refusedThreshold ?? 50,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
