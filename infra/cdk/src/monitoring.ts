import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The namespace of the service's own metrics (README, Metrics). */
export const NAMESPACE = 'SfnCallbacks';
/** Every metric and alarm looks at five minutes. */
const PERIOD = Duration.minutes(5);
const PERIOD_SECONDS = PERIOD.toSeconds();
/** The notification channels of `notifications_failed`. */
const CHANNELS = ['email', 'sns', 'slack', 'teams'] as const;

/** What the alarms and the dashboard watch. */
export interface MonitoringProps {
  /** The deployment name: the `deployment` dimension, alarm and dashboard names. */
  readonly name: string;
  readonly callbackFunction: lambda.IFunction;
  readonly createUrlsFunction: lambda.IFunction;
  /** Absent: no alarms. */
  readonly alarmTopic?: sns.ITopic;
  readonly unavailableThreshold: number;
  readonly errorRatePercent: number;
  readonly dashboard: boolean;
}

/**
 * The alarms and dashboard of infra/template.yaml: the same names, metrics,
 * thresholds and widgets.
 */
export class Monitoring extends Construct {
  /** The alarms, by their template names (empty without a topic). */
  public readonly alarms: Record<string, cloudwatch.Alarm> = {};
  /** The dashboard, unless turned off. */
  public readonly dashboard?: cloudwatch.Dashboard;

  private readonly props: MonitoringProps;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.props = props;
    if (props.alarmTopic) {
      this.addAlarms(props.alarmTopic);
    }
    if (props.dashboard) {
      this.dashboard = this.addDashboard();
    }
  }

  /** One of the service's metrics, for this deployment. */
  private serviceMetric(metricName: string, labels: Record<string, string> = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: NAMESPACE,
      metricName,
      dimensionsMap: { deployment: this.props.name, ...labels },
      statistic: cloudwatch.Stats.SUM,
      period: PERIOD,
    });
  }

  /**
   * A SEARCH for every value of `label` that `metricName` has data for,
   * each series named by the metric and that value (a dynamic label).
   */
  private search(metricName: string, label: string, stat: string): cloudwatch.MathExpression {
    const query = `{${NAMESPACE},deployment,${label}} MetricName="${metricName}" deployment="${this.props.name}"`;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('${query}', '${stat}', ${PERIOD_SECONDS})`,
      label: `${metricName} \${PROP('Dim.${label}')}${stat === 'Sum' ? '' : ` ${stat}`}`,
      period: PERIOD,
    });
  }

  /** An alarm that tells `topic` when it fires and when it clears. */
  private alarm(
    topic: sns.ITopic,
    id: string,
    props: {
      suffix: string;
      description: string;
      metric: cloudwatch.IMetric;
      threshold: number;
      comparison: cloudwatch.ComparisonOperator;
      /** A metric-math alarm: the id of its expression, as the template names it. */
      expressionId?: string;
    },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.props.name}-${props.suffix}`,
      alarmDescription: props.description,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: props.comparison,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.expressionId !== undefined) {
      // The L2 names the alarm's top-level expression `expr_1` (the
      // `usingMetrics` keys are the other ids); it renders first.
      (alarm.node.defaultChild as cloudwatch.CfnAlarm).addPropertyOverride('Metrics.0.Id', props.expressionId);
    }
    const action = new SnsAction(topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms[id] = alarm;
  }

  private lambdaSum(fn: lambda.IFunction, metricName: string): cloudwatch.Metric {
    return fn.metric(metricName, { statistic: cloudwatch.Stats.SUM, period: PERIOD });
  }

  private addAlarms(topic: sns.ITopic): void {
    const { callbackFunction, createUrlsFunction } = this.props;
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    // CreateUrlsFunction's Errors are not alarmed on: a direct invoke's bad
    // request is a function error by design, so they measure callers.
    this.alarm(topic, 'CallbacksUnavailableAlarm', {
      suffix: 'callbacks-unavailable',
      description:
        'Clicks and webhooks found Step Functions, Lambda or KMS unavailable (throttled, down, or too slow). ' +
        'People were told to try again; the links stay valid.',
      metric: this.serviceMetric('callbacks', { result: 'unavailable' }),
      threshold: this.props.unavailableThreshold,
      comparison: atLeast,
    });
    this.alarm(topic, 'CallbacksRefusedAlarm', {
      suffix: 'callbacks-refused',
      description:
        'A service refused a callback for a reason the operator has to fix (a missing permission, a disabled KMS key): ' +
        'every click of such a link fails until it is fixed.',
      metric: this.serviceMetric('callbacks', { result: 'refused' }),
      threshold: 1,
      comparison: atLeast,
    });
    this.alarm(topic, 'CallbackErrorRateAlarm', {
      suffix: 'callback-error-rate',
      description:
        "The callback function's invocations ended in function errors (crashes or timeouts; " +
        'the service answers bad input with a 4xx, not an error).',
      metric: new cloudwatch.MathExpression({
        expression: '100 * FILL(errors, 0) / invocations',
        label: 'Function errors (% of invocations)',
        usingMetrics: {
          errors: this.lambdaSum(callbackFunction, 'Errors'),
          invocations: this.lambdaSum(callbackFunction, 'Invocations'),
        },
        period: PERIOD,
      }),
      threshold: this.props.errorRatePercent,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      expressionId: 'rate',
    });
    this.alarm(topic, 'NotifyFailuresAlarm', {
      suffix: 'notify-failures',
      description:
        'CreateUrls could not send a notification (SES, SNS, Slack or Teams refused or was unavailable): ' +
        'approvers may not have been asked.',
      metric: new cloudwatch.MathExpression({
        expression: CHANNELS.map((channel) => `FILL(${channel}, 0)`).join(' + '),
        label: 'Notifications not sent',
        usingMetrics: Object.fromEntries(
          CHANNELS.map((channel) => [channel, this.serviceMetric('notifications_failed', { channel })]),
        ),
        period: PERIOD,
      }),
      threshold: 1,
      comparison: atLeast,
      expressionId: 'failures',
    });
    this.alarm(topic, 'ThrottlesAlarm', {
      suffix: 'throttles',
      description:
        "Lambda throttled invocations of either function (the account's or a reserved concurrency limit): " +
        'clicks or CreateUrls calls were turned away.',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(callbacks, 0) + FILL(createurls, 0)',
        label: 'Throttled invocations',
        usingMetrics: {
          callbacks: this.lambdaSum(callbackFunction, 'Throttles'),
          createurls: this.lambdaSum(createUrlsFunction, 'Throttles'),
        },
        period: PERIOD,
      }),
      threshold: 1,
      comparison: atLeast,
      expressionId: 'throttles',
    });
  }

  private addDashboard(): cloudwatch.Dashboard {
    const { callbackFunction, createUrlsFunction } = this.props;
    const functions = [callbackFunction, createUrlsFunction];
    const graph = (title: string, width: number, left: cloudwatch.IMetric[]): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, width, height: 6, left, region: Stack.of(this).region });
    const percentiles = (p: string) =>
      functions.map((fn) => fn.metric('Duration', { statistic: p, period: PERIOD, label: `${fn.node.id} ${p}` }));
    return new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: this.props.name,
      widgets: [
        [
          graph('Callbacks by result', 12, [this.search('callbacks', 'result', 'Sum')]),
          graph('Step Functions and Lambda call time (p50, p99, seconds)', 12, [
            this.search('engine_call_seconds', 'operation', 'p50'),
            this.search('engine_call_seconds', 'operation', 'p99'),
          ]),
        ],
        [
          graph('CreateUrls requests by result, links created by key mode', 8, [
            this.search('create_requests', 'result', 'Sum'),
            this.search('links_created', 'key_mode', 'Sum'),
          ]),
          graph('Notifications sent and failed by channel', 8, [
            this.search('notifications_sent', 'channel', 'Sum'),
            this.search('notifications_failed', 'channel', 'Sum'),
          ]),
          graph('Links opened by view', 8, [this.search('links_opened', 'view', 'Sum')]),
        ],
        [
          graph('Sign-ins and approver refusals', 8, [
            this.serviceMetric('sign_ins'),
            this.serviceMetric('sign_ins_failed'),
            this.search('approver_refusals', 'reason', 'Sum'),
          ]),
          graph(
            'Functions: invocations, errors, throttles',
            8,
            functions.flatMap((fn) => ['Invocations', 'Errors', 'Throttles'].map((m) => this.lambdaSum(fn, m))),
          ),
          graph('Functions: duration (p50, p99, ms)', 8, [...percentiles('p50'), ...percentiles('p99')]),
        ],
      ],
    });
  }
}
