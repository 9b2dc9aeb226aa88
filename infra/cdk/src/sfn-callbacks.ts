import { CfnOutput, CfnResource, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { approvalPayload, type ApprovalTaskProps } from './approval';
import { type Config, resolveConfig } from './config';
import { CallbackFrontDoor } from './front-door';
import { Monitoring } from './monitoring';
import type { SfnCallbacksProps } from './props';

/** One IAM statement, before it becomes a `PolicyStatement`. */
interface Statement {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
}

/** The two functions, which differ in role, environment and statements. */
type FunctionKind = 'callbacks' | 'createUrls';

/** Environment variables; `undefined` leaves one out (the template's NoValue). */
type Environment = Record<string, string | undefined>;

const bool = (value: boolean): string => (value ? 'true' : 'false');

/**
 * sfn-callbacks, as infra/template.yaml deploys it: `CallbackFunction`
 * behind the chosen front door (`/respond`, sign-in, Slack, and
 * IAM-authorised `POST /urls`), `CreateUrlsFunction` for direct invokes
 * and state-machine tasks, a KMS key, log groups, optional alarms and a
 * dashboard; each function may do only what the template allows.
 *
 * @example
 * const callbacks = new SfnCallbacks(this, 'Callbacks', {
 *   code: lambda.Code.fromAsset('target/lambda/sfn-callbacks'),
 * });
 * const approve = callbacks.approvalTask(this, 'Approve', {
 *   actions: [{ name: 'approve', type: 'success', output: { approved: true } }],
 *   notify: { email: { to: 'lead@example.com' } },
 * });
 */
export class SfnCallbacks extends Construct {
  /** The HTTP handler (`/respond`, `/urls`, `/auth`, `/slack`). */
  public readonly callbackFunction: lambda.Function;
  /** CreateUrls for direct invokes and state-machine tasks. */
  public readonly createUrlsFunction: lambda.Function;
  /** The key links are sealed with (given or created). */
  public readonly key: kms.IKey;
  /**
   * The service's base URL (the `Api` output): `baseUrl` when given,
   * otherwise the front door's URL (the REST API's includes `/prod`; a
   * Function URL ends with a slash, as AWS gives it).
   */
  public readonly url: string;
  /** The redirect URI to register at the OpenID Provider (`{url}/auth/callback`). */
  public readonly redirectUri: string;
  /** The front door: its API or Function URL. */
  public readonly frontDoor: CallbackFrontDoor;
  /** A managed policy granting both ways to call CreateUrls (the template's `CallerPolicy`). */
  public readonly callerPolicy: iam.ManagedPolicy;
  /** The alarms (with `alarmTopic`) and the dashboard. */
  public readonly monitoring: Monitoring;

  private readonly config: Config;

  constructor(scope: Construct, id: string, props: SfnCallbacksProps) {
    super(scope, id);
    const config = resolveConfig(this, props);
    this.config = config;

    this.key = props.encryptionKey ?? this.newKey();

    this.callbackFunction = this.newFunction('CallbackFunction', 'callbacks', props.code,
      'sfn-callbacks HTTP handler (/respond, /urls, /auth)');
    this.frontDoor = new CallbackFrontDoor(this, 'FrontDoor', {
      kind: config.frontDoor,
      name: config.name,
      handler: this.callbackFunction,
      createUrlsOverHttp: config.createUrlsOverHttp,
    });
    this.url = config.baseUrl ?? this.frontDoor.url;
    this.redirectUri = config.baseUrl ? `${config.baseUrl}/auth/callback` : this.frontDoor.urlFor('auth/callback');

    this.createUrlsFunction = this.newFunction('CreateUrlsFunction', 'createUrls', props.code,
      'sfn-callbacks CreateUrls for direct invokes');

    this.callerPolicy = new iam.ManagedPolicy(this, 'CallerPolicy', {
      description: 'Call sfn-callbacks CreateUrls (direct invoke, or POST /urls)',
      statements: this.callerStatements().map((statement) => new iam.PolicyStatement(statement)),
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      name: config.name,
      callbackFunction: this.callbackFunction,
      createUrlsFunction: this.createUrlsFunction,
      alarmTopic: props.alarmTopic,
      unavailableThreshold: config.unavailableThreshold,
      errorRatePercent: config.errorRatePercent,
      dashboard: config.dashboard,
    });

    if (config.outputs) {
      this.addOutputs();
    }
  }

  /**
   * Lets `grantee` call CreateUrls both ways: `lambda:InvokeFunction` on
   * {@link createUrlsFunction}, and `execute-api:Invoke` on `POST /urls`
   * when the front door routes it.
   */
  public grantCreateUrls(grantee: iam.IGrantable): iam.Grant {
    return this.callerStatements()
      .map((statement) => iam.Grant.addToPrincipal({
        grantee,
        actions: statement.actions,
        resourceArns: statement.resources,
      }))
      .reduce((all, grant) => all.combine(grant));
  }

  /**
   * A task state that asks for a decision: it invokes
   * {@link createUrlsFunction} with the task's token
   * (`lambda:invoke.waitForTaskToken`), so the state's result is what the
   * link that is used sends (an action's `output`, or its failure). Give it
   * a `notify`, or nobody learns the links.
   */
  public approvalTask(scope: Construct, id: string, props: ApprovalTaskProps): tasks.LambdaInvoke {
    if (!Array.isArray(props.actions) || props.actions.length === 0) {
      throw new Error('SfnCallbacks.approvalTask: actions: needs at least one action');
    }
    this.checkApprovalTask(props);
    const { payload, state } = approvalPayload(props);
    return new tasks.LambdaInvoke(scope, id, {
      ...state,
      // No retry by default: a retry after a timeout could run CreateUrls
      // twice and notify again, with fresh links.
      retryOnServiceExceptions: props.retryOnServiceExceptions ?? false,
      lambdaFunction: this.createUrlsFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload,
    });
  }

  /**
   * Refuses, naming the field, a request this deployment would refuse at
   * run time. Only literal values are checked; a token or `JsonPath` is
   * known only when the state runs.
   */
  private checkApprovalTask(props: ApprovalTaskProps): void {
    const { config } = this;
    const refuse = (prop: string, why: string): never => {
      throw new Error(`SfnCallbacks.approvalTask: ${prop}: ${why}`);
    };
    const literal = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);
    for (const prop of ['approvers', 'requester'] as const) {
      if (literal(props[prop]) && !config.oidc && !config.slack) {
        refuse(prop, 'needs a deployment with sign-in (oidc) or a Slack app, which tell who decides');
      }
    }
    const notify = props.notify;
    if (notify !== undefined && !Token.isUnresolved(notify)) {
      const channels: [string, boolean, string][] = [
        ['email', config.email !== undefined, 'notify.email'],
        ['sns', config.snsTopicArns.length > 0, 'notify.snsTopics'],
        ['slack', (config.slack?.channels.length ?? 0) > 0, 'slack.channels'],
        ['teams', config.teamsWebhooks.length > 0, 'notify.teamsWebhooks'],
      ];
      for (const [channel, enabled, setting] of channels) {
        if (literal(notify[channel]) && !enabled) {
          refuse(`notify.${channel}`, `the deployment has no ${setting}, so CreateUrls would refuse it`);
        }
      }
    }
    if (props.enableOutputParameters === true && !config.enableOutputParameters) {
      refuse('enableOutputParameters', 'the deployment does not allow output parameters (its enableOutputParameters)');
    }
  }

  /**
   * The template's key: rotated, retained, administered by the account. The
   * L2's default policy is the template's one statement, without its Sid.
   */
  private newKey(): kms.Key {
    const key = new kms.Key(this, 'Key', {
      description: 'sfn-callbacks keyring and data keys',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (key.node.defaultChild as kms.CfnKey).addPropertyOverride('KeyPolicy.Statement.0.Sid', 'AccountAdministers');
    return key;
  }

  /** Both functions: one binary, one shape, their own log group and role. */
  private newFunction(id: string, kind: FunctionKind, code: lambda.Code, description: string): lambda.Function {
    const { config } = this;
    const functionName = `${config.name}-${kind === 'callbacks' ? 'callbacks' : 'create-urls'}`;
    const logGroup = new logs.LogGroup(this, `${id}LogGroup`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: config.logRetention,
      removalPolicy: config.logRemovalPolicy,
    });
    const fn = new lambda.Function(this, id, {
      functionName,
      description,
      code,
      handler: 'bootstrap',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: config.architecture,
      memorySize: 128,
      timeout: Duration.seconds(15),
      logGroup,
      environment: definedOnly(this.environment(kind)),
    });
    for (const statement of this.functionStatements(kind)) {
      fn.addToRolePolicy(new iam.PolicyStatement(statement));
    }
    dropRoleDependency(fn);
    return fn;
  }

  /**
   * The template's Globals plus each function's own variables. Secrets are
   * tokens that render as dynamic references.
   */
  private environment(kind: FunctionKind): Environment {
    const { config } = this;
    const { email, oidc, slack } = config;
    const list = (values: string[]): string | undefined => (values.length > 0 ? values.join(',') : undefined);
    const shared: Environment = {
      KEY_MODE: config.keyMode,
      KMS_KEY_ID: this.key.keyArn,
      KEYRING: config.keyring,
      ENABLE_OUTPUT_PARAMETERS: bool(config.enableOutputParameters),
      ENABLE_POST_ACTIONS: bool(config.enablePostActions),
      GET_ACTS: bool(config.getActs),
      GET_PROBE: bool(config.getProbe),
      RUST_LOG: config.verboseLogging ? 'debug' : 'info',
      METRICS_DEPLOYMENT: config.name,
      NOTIFY_EMAIL_FROM: email && email.from.join(','),
      NOTIFY_EMAIL_TO_DOMAINS: email && email.toDomains.join(','),
      NOTIFY_SNS_TOPICS: list(config.snsTopicArns),
      NOTIFY_SLACK_CHANNELS: slack && list(slack.channels),
      NOTIFY_TEAMS_WEBHOOKS: list(config.teamsWebhooks),
      SLACK_BOT_TOKEN: slack?.botToken,
      // CreateUrls needs the issuer to bind links to approvers; only the
      // callback function signs people in, so only it holds the client.
      OIDC_ISSUER: oidc?.issuer,
    };
    if (kind === 'createUrls') {
      // One function cannot know its own API's URL without a cycle, so
      // direct invokes get the front door's.
      return { ...shared, BASE_URL: this.url };
    }
    return {
      ...shared,
      BASE_URL: config.baseUrl,
      CREATE_URLS_OVER_HTTP: bool(config.createUrlsOverHttp),
      OIDC_CLIENT_ID: oidc?.clientId,
      OIDC_CLIENT_SECRET: oidc?.clientSecret,
      OIDC_SCOPES: oidc?.scopes,
      OIDC_GROUPS_CLAIM: oidc?.groupsClaim,
      SESSION_TTL: oidc?.sessionTtl,
      SLACK_SIGNING_SECRET: slack?.signingSecret,
    };
  }

  /** Each function's statements, exactly those of infra/template.yaml. */
  private functionStatements(kind: FunctionKind): Statement[] {
    const { config } = this;
    const statements: Statement[] = [];
    if (kind === 'callbacks') {
      // Task tokens carry no ARN: these actions take no resource.
      statements.push({
        sid: 'AnswerTaskTokens',
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        resources: ['*'],
      });
      if (config.durableFunctionArns.length > 0) {
        statements.push({
          sid: 'AnswerDurableCallbacks',
          actions: [
            'lambda:SendDurableExecutionCallbackSuccess',
            'lambda:SendDurableExecutionCallbackFailure',
            'lambda:SendDurableExecutionCallbackHeartbeat',
          ],
          // Each function as given, and its versions and aliases.
          resources: [...config.durableFunctionArns, ...config.durableFunctionArns.map((arn) => `${arn}:*`)],
        });
      }
    }
    statements.push({ sid: 'UseTheKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.key.keyArn] });
    if (config.email) {
      statements.push({
        sid: 'NotifyByEmail',
        actions: ['ses:SendEmail'],
        resources: [Stack.of(this).formatArn({ service: 'ses', resource: 'identity', resourceName: config.email.sesIdentity })],
      });
    }
    if (config.snsTopicArns.length > 0) {
      statements.push({ sid: 'NotifyBySns', actions: ['sns:Publish'], resources: config.snsTopicArns });
    }
    return statements;
  }

  /** What a caller of CreateUrls needs (the template's `CallerPolicy`). */
  private callerStatements(): Statement[] {
    const statements: Statement[] = [
      { sid: 'DirectInvoke', actions: ['lambda:InvokeFunction'], resources: [this.createUrlsFunction.functionArn] },
    ];
    const createUrlsArn = this.frontDoor.createUrlsArn;
    if (createUrlsArn) {
      const sid = this.config.frontDoor === 'RestApi' ? 'RestCreateUrls' : 'HttpCreateUrls';
      statements.push({ sid, actions: ['execute-api:Invoke'], resources: [createUrlsArn] });
    }
    return statements;
  }

  /** The template's outputs; none of them is secret. */
  private addOutputs(): void {
    const outputs = new Construct(this, 'Outputs');
    new CfnOutput(outputs, 'Api', {
      description: 'Base URL of the service (POST {Api}/urls, {Api}/respond, GET {Api}/auth/login)',
      value: this.url,
    });
    if (this.config.oidc) {
      new CfnOutput(outputs, 'RedirectUri', {
        description: "The redirect URI to register at the OpenID Provider ({Api}/auth/callback, for this stack's front door or BaseUrl)",
        value: this.redirectUri,
      });
    }
    new CfnOutput(outputs, 'Function', {
      description: 'The CreateUrls function for direct invokes',
      value: this.createUrlsFunction.functionArn,
    });
    new CfnOutput(outputs, 'Policy', {
      description: 'Managed policy granting both ways to call CreateUrls',
      value: this.callerPolicy.managedPolicyArn,
    });
    if (this.monitoring.dashboard) {
      new CfnOutput(outputs, 'Dashboard', {
        description: "The CloudWatch dashboard's name",
        value: this.monitoring.dashboard.dashboardName,
      });
    }
    new CfnOutput(outputs, 'Key', { description: 'The KMS key (for keygen --kms-key-id)', value: this.key.keyArn });
  }
}

/**
 * The L2 makes a function depend on its role and the role's policy; the
 * role is already a `Fn::GetAtt` of the function (cfn-lint W3005), so its
 * `DependsOn` entry is dropped. Construct dependencies become resource
 * dependencies only at synthesis, so the list is rendered then: every
 * other dependency (the policy, anything the user adds with
 * `fn.node.addDependency`) stays, in the order CDK renders them.
 */
function dropRoleDependency(fn: lambda.Function): void {
  const cfnFunction = fn.node.defaultChild as lambda.CfnFunction;
  const cfnRole = fn.role?.node.defaultChild;
  const stack = Stack.of(fn);
  cfnFunction.addOverride('DependsOn', Lazy.list({
    produce: () => cfnFunction.obtainDependencies()
      .filter((target): target is CfnResource => CfnResource.isCfnResource(target))
      .filter((target) => target !== cfnRole && Stack.of(target) === stack && synthesizes(target))
      .sort((a, b) => a.node.path.localeCompare(b.node.path))
      .map((target) => target.logicalId),
  }, { omitEmpty: true }));
}

/**
 * Whether a resource is rendered, as CDK's own `DependsOn` asks (a policy
 * with no statement is not): `shouldSynthesize` is protected, so it is
 * reached through a cast.
 */
function synthesizes(resource: CfnResource): boolean {
  return (resource as unknown as { shouldSynthesize(): boolean }).shouldSynthesize();
}

/** Drops the variables that are not set, as the template's `AWS::NoValue`. */
function definedOnly(environment: Environment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
