import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CfnDynamicReference, CfnDynamicReferenceService, CfnParameter, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Stack } from 'aws-cdk-lib';
import type { ApprovalTaskProps, CallbackAction, SfnCallbacks } from '../src';
import {
  assetDir, DURABLE_ARN, everything, flatten, functionProps, KEY_ARN, logicalId, OIDC, only, policyStatements, resources,
  roleStatements, SLACK, synth, TOPIC_ARN, type TestProps,
} from './helpers';

/** The route keys and authorisation of an HTTP API, sorted. */
function httpRoutes(json: Record<string, any>): string[] {
  return Object.values(resources(json, 'AWS::ApiGatewayV2::Route'))
    .map((route) => `${route.Properties.RouteKey} ${route.Properties.AuthorizationType}`)
    .sort();
}

/** A REST API's methods as `METHOD /path AUTH`, sorted. */
function restMethods(json: Record<string, any>): string[] {
  const all = resources(json, 'AWS::ApiGateway::Resource');
  const pathOf = (ref: any): string => {
    if (ref.Ref === undefined) return '';
    const resource = all[ref.Ref].Properties;
    return `${pathOf(resource.ParentId)}/${resource.PathPart}`;
  };
  return Object.values(resources(json, 'AWS::ApiGateway::Method'))
    .map((m) => `${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId)} ${m.Properties.AuthorizationType}`)
    .sort();
}

const OPEN_ROUTES = [
  'ANY /respond NONE',
  'GET /auth/callback NONE',
  'GET /auth/login NONE',
  'HEAD /auth/callback NONE',
  'HEAD /auth/login NONE',
  'POST /auth/logout NONE',
  'POST /slack/interactions NONE',
];

/** The function's environment variables. */
function env(json: Record<string, any>, stack: Stack, callbacks: SfnCallbacks, id: string): Record<string, any> {
  return flatten(functionProps(json, stack, callbacks, id).Environment.Variables);
}

describe('front doors', () => {
  test('HttpApi (the default): the routes and auth types, $default stage, one permission, nothing else', () => {
    const { json, stack, callbacks } = synth();
    assert.deepEqual(httpRoutes(json), ['POST /urls AWS_IAM', ...OPEN_ROUTES].sort());
    const stage = only(json, 'AWS::ApiGatewayV2::Stage').resource.Properties;
    assert.equal(stage.StageName, '$default');
    assert.equal(stage.AutoDeploy, true);
    const integration = only(json, 'AWS::ApiGatewayV2::Integration').resource.Properties;
    assert.equal(integration.IntegrationType, 'AWS_PROXY');
    assert.equal(integration.PayloadFormatVersion, '2.0');
    assert.deepEqual(integration.IntegrationUri, { 'Fn::GetAtt': [logicalId(stack, callbacks, 'CallbackFunction'), 'Arn'] });
    for (const route of Object.values(resources(json, 'AWS::ApiGatewayV2::Route'))) {
      assert.deepEqual(flatten(route.Properties.Target), `integrations/<${only(json, 'AWS::ApiGatewayV2::Integration').id}>`);
    }
    const permission = flatten(only(json, 'AWS::Lambda::Permission').resource.Properties);
    const api = logicalId(stack, callbacks, 'FrontDoor/HttpApi');
    assert.equal(permission.Principal, 'apigateway.amazonaws.com');
    assert.equal(permission.SourceArn, `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/*/*/*`);
    assert.equal(only(json, 'AWS::ApiGatewayV2::Api').resource.Properties.Name, 'S');
    assert.deepEqual(Object.keys(resources(json, 'AWS::ApiGateway::RestApi')), []);
    assert.deepEqual(Object.keys(resources(json, 'AWS::Lambda::Url')), []);
    assert.equal(callbacks.frontDoor.httpApi !== undefined, true);
  });

  test('RestApi: the same methods, stage prod, regional, no CloudWatch role, one permission', () => {
    const { json, template, stack, callbacks } = synth({ frontDoor: 'RestApi' });
    assert.deepEqual(restMethods(json), [
      'ANY /respond NONE', 'GET /auth/callback NONE', 'GET /auth/login NONE', 'HEAD /auth/callback NONE',
      'HEAD /auth/login NONE', 'POST /auth/logout NONE', 'POST /slack/interactions NONE', 'POST /urls AWS_IAM',
    ]);
    const callbackArn = `<${logicalId(stack, callbacks, 'CallbackFunction')}.Arn>`;
    for (const method of Object.values(resources(json, 'AWS::ApiGateway::Method'))) {
      assert.equal(method.Properties.Integration.Type, 'AWS_PROXY');
      assert.equal(method.Properties.Integration.IntegrationHttpMethod, 'POST');
      assert.equal(
        flatten(method.Properties.Integration.Uri),
        `arn:<AWS::Partition>:apigateway:<AWS::Region>:lambda:path/2015-03-31/functions/${callbackArn}/invocations`,
      );
    }
    assert.equal(only(json, 'AWS::ApiGateway::Stage').resource.Properties.StageName, 'prod');
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'S', EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.resourceCountIs('AWS::IAM::Role', 2);
    const api = logicalId(stack, callbacks, 'FrontDoor/RestApi');
    assert.equal(
      flatten(only(json, 'AWS::Lambda::Permission').resource.Properties.SourceArn),
      `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/*/*/*`,
    );
    assert.deepEqual(Object.keys(resources(json, 'AWS::ApiGatewayV2::Api')), []);
  });

  test('FunctionUrl: a public URL, no API, no CreateUrls over HTTP', () => {
    const { json, template, stack, callbacks } = synth({ frontDoor: 'FunctionUrl' });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    const callbackFn = logicalId(stack, callbacks, 'CallbackFunction');
    assert.equal(only(json, 'AWS::Lambda::Url').resource.Properties.TargetFunctionArn['Fn::GetAtt'][0], callbackFn);
    const permissions = Object.values(resources(json, 'AWS::Lambda::Permission')).map((p) => p.Properties);
    const functionArn = { 'Fn::GetAtt': [callbackFn, 'Arn'] };
    assert.deepEqual(permissions.sort((a, b) => a.Action.localeCompare(b.Action)), [
      { Action: 'lambda:InvokeFunction', FunctionName: functionArn, Principal: '*', InvokedViaFunctionUrl: true },
      { Action: 'lambda:InvokeFunctionUrl', FunctionName: functionArn, Principal: '*', FunctionUrlAuthType: 'NONE' },
    ]);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    assert.equal(env(json, stack, callbacks, 'CallbackFunction').CREATE_URLS_OVER_HTTP, 'false');
  });

  test('createUrlsOverHttp false on an API leaves out POST /urls', () => {
    const { json, stack, callbacks } = synth({ createUrlsOverHttp: false });
    assert.deepEqual(httpRoutes(json), OPEN_ROUTES);
    assert.equal(env(json, stack, callbacks, 'CallbackFunction').CREATE_URLS_OVER_HTTP, 'false');
    assert.equal(callbacks.frontDoor.createUrlsArn, undefined);
    const rest = synth({ frontDoor: 'RestApi', createUrlsOverHttp: false });
    assert.deepEqual(restMethods(rest.json), OPEN_ROUTES);
  });

  test('toggling createUrlsOverHttp keeps the HTTP integration\'s logical id', () => {
    const withUrls = only(synth().json, 'AWS::ApiGatewayV2::Integration').id;
    const without = only(synth({ createUrlsOverHttp: false }).json, 'AWS::ApiGatewayV2::Integration').id;
    assert.equal(without, withUrls);
  });
});

describe('IAM', () => {
  const basicExecution = 'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

  test('defaults: task tokens on *, the key only; CreateUrls the key only', () => {
    const { json, stack, callbacks } = synth();
    const key = `<${logicalId(stack, callbacks, 'Key')}.Arn>`;
    const kmsStatement = { Sid: 'UseTheKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: key };
    assert.deepEqual(flatten(roleStatements(json, stack, callbacks, 'CallbackFunction')), [
      {
        Sid: 'AnswerTaskTokens',
        Effect: 'Allow',
        Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        Resource: '*',
      },
      kmsStatement,
    ]);
    assert.deepEqual(flatten(roleStatements(json, stack, callbacks, 'CreateUrlsFunction')), [kmsStatement]);
    for (const role of Object.values(resources(json, 'AWS::IAM::Role'))) {
      assert.deepEqual(flatten(role.Properties.ManagedPolicyArns), [basicExecution]);
      assert.equal(role.Properties.Policies, undefined);
    }
  });

  test('every option: durable on ARN and ARN:*, SES on the identity, SNS on the topics', () => {
    const { json, stack, callbacks } = synth(everything);
    const key = `<${logicalId(stack, callbacks, 'Key')}.Arn>`;
    const shared = [
      { Sid: 'UseTheKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: key },
      {
        Sid: 'NotifyByEmail',
        Effect: 'Allow',
        Action: 'ses:SendEmail',
        Resource: 'arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/example.com',
      },
      { Sid: 'NotifyBySns', Effect: 'Allow', Action: 'sns:Publish', Resource: TOPIC_ARN },
    ];
    assert.deepEqual(flatten(roleStatements(json, stack, callbacks, 'CallbackFunction')), [
      {
        Sid: 'AnswerTaskTokens',
        Effect: 'Allow',
        Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        Resource: '*',
      },
      {
        Sid: 'AnswerDurableCallbacks',
        Effect: 'Allow',
        Action: [
          'lambda:SendDurableExecutionCallbackSuccess',
          'lambda:SendDurableExecutionCallbackFailure',
          'lambda:SendDurableExecutionCallbackHeartbeat',
        ],
        Resource: [DURABLE_ARN, `${DURABLE_ARN}:*`],
      },
      ...shared,
    ]);
    assert.deepEqual(flatten(roleStatements(json, stack, callbacks, 'CreateUrlsFunction')), shared);
  });

  test('no wildcard action in any role or managed policy, with every option and alarms', () => {
    const { json } = synth((stack) => ({ ...everything(stack), alarmTopic: new sns.Topic(stack, 'Alarms') }));
    const documents = [
      ...Object.values(resources(json, 'AWS::IAM::Policy')),
      ...Object.values(resources(json, 'AWS::IAM::ManagedPolicy')),
    ].map((policy) => policy.Properties.PolicyDocument);
    assert.ok(documents.length >= 3);
    for (const statement of documents.flatMap((document) => document.Statement)) {
      for (const action of [statement.Action].flat()) {
        assert.doesNotMatch(action, /\*/, `wildcard action ${action}`);
      }
    }
  });

  test('a durable IFunction is granted with its versions and aliases', () => {
    const { json, stack, callbacks } = synth((s) => ({
      durableFunctions: [new lambda.Function(s, 'Durable', {
        code: lambda.Code.fromAsset(assetDir()), handler: 'bootstrap', runtime: lambda.Runtime.PROVIDED_AL2023,
      })],
    }));
    const durable = roleStatements(json, stack, callbacks, 'CallbackFunction').find((s) => s.Sid === 'AnswerDurableCallbacks');
    const fn = logicalId(stack, stack, 'Durable');
    assert.deepEqual(flatten(durable.Resource), [`<${fn}.Arn>`, `<${fn}.Arn>:*`]);
  });

  test('a key brought along is used as is, and none is created', () => {
    const { json, template, stack, callbacks } = synth((s) => ({ encryptionKey: kms.Key.fromKeyArn(s, 'Byo', KEY_ARN) }));
    template.resourceCountIs('AWS::KMS::Key', 0);
    for (const id of ['CallbackFunction', 'CreateUrlsFunction']) {
      const statement = roleStatements(json, stack, callbacks, id).find((s) => s.Sid === 'UseTheKey');
      assert.equal(statement.Resource, KEY_ARN);
      assert.equal(env(json, stack, callbacks, id).KMS_KEY_ID, KEY_ARN);
    }
  });

  test('a created key rotates, is retained, and the account administers it (the template\'s policy)', () => {
    const { template, json } = synth();
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { EnableKeyRotation: true, Description: 'sfn-callbacks keyring and data keys' },
    });
    assert.deepEqual(flatten(only(json, 'AWS::KMS::Key').resource.Properties.KeyPolicy), {
      Version: '2012-10-17',
      Statement: [{
        Sid: 'AccountAdministers',
        Effect: 'Allow',
        Principal: { AWS: 'arn:<AWS::Partition>:iam::<AWS::AccountId>:root' },
        Action: 'kms:*',
        Resource: '*',
      }],
    });
  });
});

describe('functions', () => {
  test('runtime, handler, size, names and log groups as the template', () => {
    const { json, stack, callbacks, template } = synth({ logRetention: logs.RetentionDays.ONE_WEEK });
    for (const [id, name] of [['CallbackFunction', 'S-callbacks'], ['CreateUrlsFunction', 'S-create-urls']]) {
      const props = functionProps(json, stack, callbacks, id);
      assert.equal(props.Runtime, 'provided.al2023');
      assert.equal(props.Handler, 'bootstrap');
      assert.deepEqual(props.Architectures, ['arm64']);
      assert.equal(props.MemorySize, 128);
      assert.equal(props.Timeout, 15);
      assert.equal(props.FunctionName, name);
      const logGroup = json.Resources[props.LoggingConfig.LogGroup.Ref];
      assert.equal(logGroup.Properties.LogGroupName, `/aws/lambda/${name}`);
      assert.equal(logGroup.Properties.RetentionInDays, 7);
      assert.equal(logGroup.DeletionPolicy, 'Delete');
    }
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
  });

  test('defaults: retention 30 days; x86_64, a name and a retained log group when asked', () => {
    const defaults = synth();
    for (const group of Object.values(resources(defaults.json, 'AWS::Logs::LogGroup'))) {
      assert.equal(group.Properties.RetentionInDays, 30);
    }
    const { json, stack, callbacks } = synth({
      architecture: lambda.Architecture.X86_64, name: 'approvals', logRemovalPolicy: RemovalPolicy.RETAIN,
    });
    const props = functionProps(json, stack, callbacks, 'CreateUrlsFunction');
    assert.deepEqual(props.Architectures, ['x86_64']);
    assert.equal(props.FunctionName, 'approvals-create-urls');
    assert.equal(json.Resources[props.LoggingConfig.LogGroup.Ref].DeletionPolicy, 'Retain');
    assert.equal(env(json, stack, callbacks, 'CreateUrlsFunction').METRICS_DEPLOYMENT, 'approvals');
  });

  test('default environment: only what the template sets', () => {
    const { json, stack, callbacks } = synth();
    const key = `<${logicalId(stack, callbacks, 'Key')}.Arn>`;
    const api = logicalId(stack, callbacks, 'FrontDoor/HttpApi');
    const shared = {
      KEY_MODE: 'kms-envelope',
      KMS_KEY_ID: key,
      ENABLE_OUTPUT_PARAMETERS: 'false',
      ENABLE_POST_ACTIONS: 'false',
      GET_ACTS: 'false',
      GET_PROBE: 'true',
      RUST_LOG: 'info',
      METRICS_DEPLOYMENT: 'S',
    };
    assert.deepEqual(env(json, stack, callbacks, 'CallbackFunction'), { ...shared, CREATE_URLS_OVER_HTTP: 'true' });
    assert.deepEqual(env(json, stack, callbacks, 'CreateUrlsFunction'), {
      ...shared,
      BASE_URL: `https://<${api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>`,
    });
  });

  test('every option: the secrets as dynamic references, the client on the callback function only', () => {
    const { json, stack, callbacks } = synth(everything);
    const key = `<${logicalId(stack, callbacks, 'Key')}.Arn>`;
    const shared = {
      KEY_MODE: 'kms-envelope',
      KMS_KEY_ID: key,
      ENABLE_OUTPUT_PARAMETERS: 'true',
      ENABLE_POST_ACTIONS: 'true',
      GET_ACTS: 'true',
      GET_PROBE: 'false',
      RUST_LOG: 'debug',
      METRICS_DEPLOYMENT: 'S',
      NOTIFY_EMAIL_FROM: 'approvals@example.com,@example.com',
      NOTIFY_EMAIL_TO_DOMAINS: 'example.com,corp.example',
      NOTIFY_SNS_TOPICS: TOPIC_ARN,
      NOTIFY_SLACK_CHANNELS: 'C0123,C0456',
      NOTIFY_TEAMS_WEBHOOKS: 'https://*.environment.api.powerplatform.com/powerautomate/',
      SLACK_BOT_TOKEN: '{{resolve:secretsmanager:slack:SecretString:botToken::}}',
      OIDC_ISSUER: 'https://login.example.com',
      BASE_URL: 'https://approvals.example.com',
    };
    assert.deepEqual(env(json, stack, callbacks, 'CreateUrlsFunction'), shared);
    assert.deepEqual(env(json, stack, callbacks, 'CallbackFunction'), {
      ...shared,
      CREATE_URLS_OVER_HTTP: 'true',
      OIDC_CLIENT_ID: 'client-1',
      OIDC_CLIENT_SECRET: '{{resolve:secretsmanager:oidc:SecretString:clientSecret::}}',
      OIDC_SCOPES: 'openid email',
      OIDC_GROUPS_CLAIM: 'cognito:groups',
      SESSION_TTL: '90m',
      SLACK_SIGNING_SECRET: '{{resolve:secretsmanager:slack:SecretString:signingSecret::}}',
    });
  });

  test('kms mode carries the keyring; OIDC defaults; a Slack app without channels sets no NOTIFY_SLACK_CHANNELS', () => {
    const { json, stack, callbacks } = synth({
      keyMode: 'kms',
      keyring: 'AQICAHh-encrypted-keyring',
      oidc: OIDC,
      slack: SLACK,
    });
    const callback = env(json, stack, callbacks, 'CallbackFunction');
    assert.equal(callback.KEY_MODE, 'kms');
    assert.equal(callback.KEYRING, 'AQICAHh-encrypted-keyring');
    assert.equal(env(json, stack, callbacks, 'CreateUrlsFunction').KEYRING, 'AQICAHh-encrypted-keyring');
    assert.equal(callback.OIDC_SCOPES, 'openid email profile');
    assert.equal(callback.OIDC_GROUPS_CLAIM, 'groups');
    assert.equal(callback.SESSION_TTL, '8h');
    assert.equal(callback.NOTIFY_SLACK_CHANNELS, undefined);
    assert.equal(callback.SLACK_BOT_TOKEN, '{{resolve:secretsmanager:slack:SecretString:botToken::}}');
  });
});

describe('keyring', () => {
  test('an empty keyring is no keyring', () => {
    const { json, stack, callbacks } = synth({ keyring: '' });
    for (const id of ['CallbackFunction', 'CreateUrlsFunction']) {
      assert.equal('KEYRING' in env(json, stack, callbacks, id), false, id);
    }
  });

  test('a token (a NoEcho parameter) is passed as is, and satisfies kms mode', () => {
    const { json, stack, callbacks } = synth((s) => ({
      keyMode: 'kms',
      keyring: new CfnParameter(s, 'Keyring', { noEcho: true }).valueAsString,
    }));
    assert.equal(env(json, stack, callbacks, 'CreateUrlsFunction').KEYRING, '<Keyring>');
  });
});

describe('dependencies', () => {
  /** The function's DependsOn, as logical ids. */
  const dependsOn = (json: Record<string, any>, stack: Stack, callbacks: SfnCallbacks, id: string): string[] =>
    json.Resources[logicalId(stack, callbacks, id)].DependsOn;

  test('each function depends on its policy, not on its role (already a GetAtt)', () => {
    const { json, stack, callbacks } = synth();
    for (const id of ['CallbackFunction', 'CreateUrlsFunction']) {
      assert.deepEqual(dependsOn(json, stack, callbacks, id), [logicalId(stack, callbacks, `${id}/ServiceRole/DefaultPolicy`)]);
    }
  });

  test('dependencies the user adds survive, and the role stays out', () => {
    const { json, stack, callbacks } = synth({}, (c, s) => {
      c.callbackFunction.node.addDependency(new sqs.Queue(s, 'Queue'));
      (c.createUrlsFunction.node.defaultChild as lambda.CfnFunction).addDependency(
        new sqs.Queue(s, 'Other').node.defaultChild as sqs.CfnQueue,
      );
    });
    assert.deepEqual(dependsOn(json, stack, callbacks, 'CallbackFunction'), [
      logicalId(stack, callbacks, 'CallbackFunction/ServiceRole/DefaultPolicy'),
      logicalId(stack, stack, 'Queue'),
    ]);
    assert.deepEqual(dependsOn(json, stack, callbacks, 'CreateUrlsFunction'), [
      logicalId(stack, callbacks, 'CreateUrlsFunction/ServiceRole/DefaultPolicy'),
      logicalId(stack, stack, 'Other'),
    ]);
    for (const id of ['CallbackFunction', 'CreateUrlsFunction']) {
      assert.ok(!dependsOn(json, stack, callbacks, id).includes(logicalId(stack, callbacks, `${id}/ServiceRole`)), id);
    }
  });
});

describe('outputs', () => {
  /** The outputs by their construct id (`Api`, `Key`, ...), flattened. */
  function outputs(json: Record<string, any>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(json.Outputs as Record<string, any>).map(([id, o]) => [id.replace(/^CallbacksOutputs(\w+?)[0-9A-F]{8}$/, '$1'), flatten(o.Value)]),
    );
  }

  test('HttpApi: Api without a slash, Function, Policy, Dashboard, Key; no RedirectUri without sign-in', () => {
    const { json, stack, callbacks } = synth();
    const api = logicalId(stack, callbacks, 'FrontDoor/HttpApi');
    assert.deepEqual(outputs(json), {
      Api: `https://<${api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>`,
      Function: `<${logicalId(stack, callbacks, 'CreateUrlsFunction')}.Arn>`,
      Policy: `<${logicalId(stack, callbacks, 'CallerPolicy')}>`,
      Dashboard: `<${logicalId(stack, callbacks, 'Monitoring/Dashboard')}>`,
      Key: `<${logicalId(stack, callbacks, 'Key')}.Arn>`,
    });
  });

  test('RestApi includes /prod; RedirectUri with sign-in', () => {
    const { json, stack, callbacks } = synth({
      frontDoor: 'RestApi',
      dashboard: false,
      oidc: OIDC,
    });
    const api = logicalId(stack, callbacks, 'FrontDoor/RestApi');
    const out = outputs(json);
    assert.equal(out.Api, `https://<${api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/prod`);
    assert.equal(out.RedirectUri, `https://<${api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/prod/auth/callback`);
    assert.equal(out.Dashboard, undefined);
  });

  test('FunctionUrl: the URL as AWS gives it (with its slash), and the redirect under it', () => {
    const { json, stack, callbacks } = synth({
      frontDoor: 'FunctionUrl',
      oidc: OIDC,
    });
    const url = `<${logicalId(stack, callbacks, 'FrontDoor/FunctionUrl')}.FunctionUrl>`;
    assert.equal(outputs(json).Api, url);
    assert.equal(outputs(json).RedirectUri, `${url}auth/callback`);
    assert.equal(env(json, stack, callbacks, 'CreateUrlsFunction').BASE_URL, url);
  });

  test('baseUrl wins, and no output holds a secret', () => {
    const { json } = synth(everything);
    const out = outputs(json);
    assert.equal(out.Api, 'https://approvals.example.com');
    assert.equal(out.RedirectUri, 'https://approvals.example.com/auth/callback');
    assert.doesNotMatch(JSON.stringify(json.Outputs), /resolve:|secretsmanager/);
  });

  test('outputs: false adds none', () => {
    const { json } = synth({ outputs: false });
    assert.equal(json.Outputs, undefined);
  });
});

describe('alarms and dashboard', () => {
  test('no topic: no alarms; the dashboard is on by default and can be turned off', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'S' });
    synth({ dashboard: false }).template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  test('with a topic: the five alarms of the template, each telling the topic on alarm and on recovery', () => {
    const { json, stack, callbacks } = synth((s) => ({
      alarmTopic: new sns.Topic(s, 'Alarms'), unavailableThreshold: 3, errorRatePercent: 10,
    }));
    const topic = logicalId(stack, stack, 'Alarms');
    const alarms = Object.values(resources(json, 'AWS::CloudWatch::Alarm')).map((a) => flatten(a.Properties));
    assert.deepEqual(alarms.map((a) => a.AlarmName).sort(), [
      'S-callback-error-rate', 'S-callbacks-refused', 'S-callbacks-unavailable', 'S-notify-failures', 'S-throttles',
    ]);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.AlarmActions, [`<${topic}>`]);
      assert.deepEqual(alarm.OKActions, [`<${topic}>`]);
      assert.equal(alarm.EvaluationPeriods, 1);
      assert.equal(alarm.TreatMissingData, 'notBreaching');
    }
    const byName = Object.fromEntries(alarms.map((a) => [a.AlarmName, a]));
    const unavailable = byName['S-callbacks-unavailable'];
    assert.deepEqual(
      [unavailable.Namespace, unavailable.MetricName, unavailable.Statistic, unavailable.Period, unavailable.Threshold, unavailable.ComparisonOperator],
      ['SfnCallbacks', 'callbacks', 'Sum', 300, 3, 'GreaterThanOrEqualToThreshold'],
    );
    assert.deepEqual(unavailable.Dimensions, [{ Name: 'deployment', Value: 'S' }, { Name: 'result', Value: 'unavailable' }]);
    assert.deepEqual(byName['S-callbacks-refused'].Dimensions, [{ Name: 'deployment', Value: 'S' }, { Name: 'result', Value: 'refused' }]);
    assert.equal(byName['S-callbacks-refused'].Threshold, 1);

    const rate = byName['S-callback-error-rate'];
    assert.equal(rate.Threshold, 10);
    assert.equal(rate.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(rate.Metrics.find((m: any) => m.ReturnData).Expression, '100 * FILL(errors, 0) / invocations');
    // The template's ids: the expression's, and the metrics' its expression names.
    const ids = (alarm: any) => alarm.Metrics.map((m: any) => `${m.Id}${m.ReturnData ? '*' : ''}`);
    assert.deepEqual(ids(rate), ['rate*', 'errors', 'invocations']);
    const stats = (alarm: any) => Object.fromEntries(alarm.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [
      m.Id,
      `${m.MetricStat.Metric.Namespace} ${m.MetricStat.Metric.MetricName} ${m.MetricStat.Stat} ${m.MetricStat.Period} ` +
        m.MetricStat.Metric.Dimensions.map((d: any) => `${d.Name}=${d.Value}`).join(','),
    ]));
    const callbackFn = `FunctionName=<${logicalId(stack, callbacks, 'CallbackFunction')}>`;
    const createUrlsFn = `FunctionName=<${logicalId(stack, callbacks, 'CreateUrlsFunction')}>`;
    assert.deepEqual(stats(rate), {
      errors: `AWS/Lambda Errors Sum 300 ${callbackFn}`,
      invocations: `AWS/Lambda Invocations Sum 300 ${callbackFn}`,
    });

    const notify = byName['S-notify-failures'];
    assert.equal(notify.Metrics.find((m: any) => m.ReturnData).Expression, 'FILL(email, 0) + FILL(sns, 0) + FILL(slack, 0) + FILL(teams, 0)');
    assert.deepEqual(stats(notify), Object.fromEntries(['email', 'sns', 'slack', 'teams'].map((c) => [
      c, `SfnCallbacks notifications_failed Sum 300 channel=${c},deployment=S`,
    ])));
    assert.equal(notify.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.deepEqual(ids(notify), ['failures*', 'email', 'sns', 'slack', 'teams']);

    const throttles = byName['S-throttles'];
    assert.equal(throttles.Metrics.find((m: any) => m.ReturnData).Expression, 'FILL(callbacks, 0) + FILL(createurls, 0)');
    assert.deepEqual(ids(throttles), ['throttles*', 'callbacks', 'createurls']);
    assert.deepEqual(stats(throttles), {
      callbacks: `AWS/Lambda Throttles Sum 300 ${callbackFn}`,
      createurls: `AWS/Lambda Throttles Sum 300 ${createUrlsFn}`,
    });
    // No alarm on CreateUrlsFunction's Errors: those are callers' bad requests.
    assert.doesNotMatch(JSON.stringify(alarms), new RegExp(`Errors[^}]*${createUrlsFn.replace(/[<>]/g, '.')}`));
  });

  test('the dashboard shows every metric of the service and both functions', () => {
    const { json } = synth();
    const body = JSON.parse(flatten(only(json, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody));
    const text = JSON.stringify(body);
    for (const [metric, label] of [
      ['callbacks', 'result'], ['create_requests', 'result'], ['links_created', 'key_mode'],
      ['notifications_sent', 'channel'], ['notifications_failed', 'channel'], ['links_opened', 'view'],
      ['engine_call_seconds', 'operation'], ['approver_refusals', 'reason'],
    ]) {
      assert.ok(text.includes(`{SfnCallbacks,deployment,${label}} MetricName=\\"${metric}\\" deployment=\\"S\\"`), metric);
    }
    assert.match(text, /'p50', 300/);
    assert.match(text, /'p99', 300/);
    for (const metric of ['sign_ins', 'sign_ins_failed']) {
      assert.ok(text.includes(`["SfnCallbacks","${metric}","deployment","S"`), metric);
    }
    for (const metric of ['Invocations', 'Errors', 'Throttles', 'Duration']) {
      assert.equal(text.split(`"AWS/Lambda","${metric}"`).length - 1, metric === 'Duration' ? 4 : 2, metric);
    }
    assert.equal(body.widgets.length, 8);
  });
});

describe('grantCreateUrls', () => {
  function granted(props: TestProps): { statements: any[]; stack: Stack; callbacks: SfnCallbacks } {
    const { json, stack, callbacks } = synth(props, (c, s) => {
      c.grantCreateUrls(new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    });
    return { statements: flatten(policyStatements(json, logicalId(stack, stack, 'Caller'))), stack, callbacks };
  }

  test('HttpApi: invoke the function, and POST /urls on any stage', () => {
    const { statements, stack, callbacks } = granted({});
    const api = logicalId(stack, callbacks, 'FrontDoor/HttpApi');
    assert.deepEqual(statements, [
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `<${logicalId(stack, callbacks, 'CreateUrlsFunction')}.Arn>` },
      { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/*/POST/urls` },
    ]);
  });

  test('RestApi: POST /urls on prod; the managed policy says the same', () => {
    const { statements, stack, callbacks } = granted({ frontDoor: 'RestApi' });
    const api = logicalId(stack, callbacks, 'FrontDoor/RestApi');
    const invokeUrls = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/prod/POST/urls`;
    assert.deepEqual(statements[1], { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: invokeUrls });
    const managed = flatten(stack.resolve((callbacks.callerPolicy.node.defaultChild as iam.CfnManagedPolicy).policyDocument));
    assert.deepEqual(managed.Statement.map((s: any) => [s.Sid, s.Action]), [
      ['DirectInvoke', 'lambda:InvokeFunction'], ['RestCreateUrls', 'execute-api:Invoke'],
    ]);
    assert.equal(managed.Statement[1].Resource, invokeUrls);
  });

  test('FunctionUrl: only the direct invoke', () => {
    const { statements, stack, callbacks } = granted({ frontDoor: 'FunctionUrl' });
    assert.deepEqual(statements, [
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `<${logicalId(stack, callbacks, 'CreateUrlsFunction')}.Arn>` },
    ]);
  });
});

describe('approvalTask', () => {
  const ACTIONS: CallbackAction[] = [{ name: 'approve', type: 'success' }];

  test('a waitForTaskToken invoke of CreateUrls with the task token and the request', () => {
    const deployment: TestProps = {
      enableOutputParameters: true,
      notify: { email: { sesIdentity: 'example.com', from: ['approvals@example.com'], toDomains: ['example.com'] } },
    };
    const { json, stack, callbacks } = synth(deployment, (c, s) => {
      const approve = c.approvalTask(s, 'Approve', {
        actions: [
          { name: 'approve', type: 'success', output: { approved: true } },
          { name: 'reject', type: 'failure', error: 'Rejected', cause: sfn.JsonPath.stringAt('$.reason') },
        ],
        expiration: sfn.JsonPath.stringAt('$.deadline'),
        notify: { email: { to: 'lead@example.com' }, context: sfn.JsonPath.objectAt('$') },
        review: true,
        enableOutputParameters: true,
        resultPath: '$.decision',
      });
      new sfn.StateMachine(s, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(approve) });
    });
    const machine = only(json, 'AWS::StepFunctions::StateMachine').resource.Properties;
    const definition = JSON.parse(flatten(machine.DefinitionString));
    const state = definition.States.Approve;
    assert.equal(definition.StartAt, 'Approve');
    assert.equal(state.Type, 'Task');
    assert.equal(state.Resource, 'arn:<AWS::Partition>:states:::lambda:invoke.waitForTaskToken');
    assert.equal(state.ResultPath, '$.decision');
    assert.equal(state.Parameters.FunctionName, `<${logicalId(stack, callbacks, 'CreateUrlsFunction')}.Arn>`);
    assert.deepEqual(state.Parameters.Payload, {
      'token.$': '$$.Task.Token',
      actions: [
        { name: 'approve', type: 'success', output: { approved: true } },
        { name: 'reject', type: 'failure', error: 'Rejected', 'cause.$': '$.reason' },
      ],
      'expiration.$': '$.deadline',
      notify: { email: { to: 'lead@example.com' }, 'context.$': '$' },
      review: true,
      enable_output_parameters: true,
    });
    // No retry: a retried invoke could notify twice, with fresh links.
    assert.equal(state.Retry, undefined);
    // The state machine may invoke CreateUrls (and nothing of the construct's roles changed).
    assert.deepEqual(
      flatten(policyStatements(json, machine.RoleArn['Fn::GetAtt'][0])).flatMap((s: any) => [s.Action].flat()),
      ['lambda:InvokeFunction'],
    );
  });

  test('needs at least one action', () => {
    const { callbacks, stack } = synth();
    assert.throws(() => callbacks.approvalTask(stack, 'None', { actions: [] }), /approvalTask: actions/);
  });

  test('retryOnServiceExceptions: true brings back the Lambda retry', () => {
    const { json } = synth({}, (c, s) => {
      const approve = c.approvalTask(s, 'Approve', { actions: ACTIONS, retryOnServiceExceptions: true });
      new sfn.StateMachine(s, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(approve) });
    });
    const definition = JSON.parse(flatten(only(json, 'AWS::StepFunctions::StateMachine').resource.Properties.DefinitionString));
    assert.ok(definition.States.Approve.Retry.some((retry: any) => retry.ErrorEquals.includes('Lambda.ServiceException')));
  });

  // What the deployment cannot serve, refused at synth time.
  const refused: [string, TestProps, Partial<ApprovalTaskProps>, RegExp][] = [
    ['approvers without sign-in or Slack', {}, { approvers: { emails: ['a@example.com'] } }, /approvalTask: approvers:/],
    ['a requester without sign-in or Slack', {}, { requester: 'a@example.com' }, /approvalTask: requester:/],
    ['notify.email without email settings', {}, { notify: { email: { to: 'a@example.com' } } }, /approvalTask: notify\.email:/],
    ['notify.sns without topics', {}, { notify: { sns: { topic_arn: TOPIC_ARN } } }, /approvalTask: notify\.sns:/],
    ['notify.slack without a Slack app', {}, { notify: { slack: { channel: 'C0123' } } }, /approvalTask: notify\.slack:/],
    ['notify.slack without Slack channels', { slack: SLACK }, { notify: { slack: { channel: 'C0123' } } }, /approvalTask: notify\.slack:/],
    ['notify.teams without webhooks', {}, { notify: { teams: { webhook_url: 'https://x.example/' } } }, /approvalTask: notify\.teams:/],
    ['enableOutputParameters the deployment does not allow', {}, { enableOutputParameters: true }, /approvalTask: enableOutputParameters:/],
  ];
  for (const [name, deployment, request, error] of refused) {
    test(`refused: ${name}`, () => {
      const { callbacks, stack } = synth(deployment);
      assert.throws(() => callbacks.approvalTask(stack, 'Approve', { actions: ACTIONS, ...request }), error);
    });
  }

  test('accepted when the deployment has the settings, or the value is a JsonPath', () => {
    const { callbacks, stack } = synth(everything);
    assert.doesNotThrow(() => callbacks.approvalTask(stack, 'Everything', {
      actions: ACTIONS,
      approvers: { emails: ['a@example.com'] },
      requester: 'b@example.com',
      notify: { email: { to: 'a@example.com' }, sns: {}, slack: { channel: 'C0123' }, teams: {} },
      enableOutputParameters: true,
    }));
    assert.doesNotThrow(() => synth({ slack: SLACK }).callbacks.approvalTask(stack, 'Slack', {
      actions: ACTIONS, approvers: { emails: ['a@example.com'] },
    }));
    const bare = synth();
    assert.doesNotThrow(() => bare.callbacks.approvalTask(bare.stack, 'Paths', {
      actions: ACTIONS,
      // The types take objects; a whole-object JsonPath renders too.
      approvers: sfn.JsonPath.objectAt('$.approvers') as unknown as Record<string, unknown>,
      requester: sfn.JsonPath.stringAt('$.requester'),
      notify: sfn.JsonPath.objectAt('$.notify') as unknown as Record<string, unknown>,
      enableOutputParameters: false,
    }));
    assert.doesNotThrow(() => bare.callbacks.approvalTask(bare.stack, 'ChannelPath', {
      actions: ACTIONS, notify: { email: sfn.JsonPath.objectAt('$.email') },
    }));
  });
});

describe('synth errors name the prop', () => {
  const oidc = OIDC;
  const slack = SLACK;
  const cases: [string, TestProps | ((stack: Stack) => TestProps), RegExp][] = [
    ['FunctionUrl with createUrlsOverHttp', { frontDoor: 'FunctionUrl', createUrlsOverHttp: true }, /SfnCallbacks: createUrlsOverHttp:/],
    ['kms without a keyring', { keyMode: 'kms' }, /SfnCallbacks: keyring:/],
    ['kms with an empty keyring', { keyMode: 'kms', keyring: '' }, /SfnCallbacks: keyring:/],
    ['an unknown front door', { frontDoor: 'Alb' as never }, /SfnCallbacks: frontDoor:/],
    ['an unknown key mode', { keyMode: 'local' as never }, /SfnCallbacks: keyMode:/],
    ['oidc without a client secret', { oidc: { ...oidc, clientSecret: undefined as never } }, /SfnCallbacks: oidc\.clientSecret:/],
    ['oidc without a client id', { oidc: { ...oidc, clientId: '' } }, /SfnCallbacks: oidc\.clientId:/],
    ['an http issuer', { oidc: { ...oidc, issuer: 'http://login.example.com' } }, /SfnCallbacks: oidc\.issuer:/],
    ['scopes without openid', { oidc: { ...oidc, scopes: 'email profile' } }, /SfnCallbacks: oidc\.scopes:/],
    ['a groups claim with a space', { oidc: { ...oidc, groupsClaim: 'my groups' } }, /SfnCallbacks: oidc\.groupsClaim:/],
    ['a session TTL that does not parse', { oidc: { ...oidc, sessionTtl: '8 hours' } }, /SfnCallbacks: oidc\.sessionTtl:/],
    ['a session TTL over a day', { oidc: { ...oidc, sessionTtl: '25h' } }, /SfnCallbacks: oidc\.sessionTtl:/],
    ['a plain-text client secret', { oidc: { ...oidc, clientSecret: SecretValue.unsafePlainText('hunter2') } }, /SfnCallbacks: oidc\.clientSecret: is plain text/],
    ['a Slack bot token without a signing secret', { slack: { ...slack, signingSecret: undefined as never } }, /SfnCallbacks: slack\.signingSecret:/],
    ['a plain-text bot token', { slack: { ...slack, botToken: SecretValue.unsafePlainText('xoxb-1') } }, /SfnCallbacks: slack\.botToken: is plain text/],
    ['a plain SSM parameter as the client secret', { oidc: { ...oidc, clientSecret: SecretValue.cfnDynamicReference(new CfnDynamicReference(CfnDynamicReferenceService.SSM, '/oidc/secret')) } }, /SfnCallbacks: oidc\.clientSecret: is an SSM parameter reference, which is not a secret; use a Secrets Manager reference/],
    ['an ssm-secure signing secret', { slack: { ...slack, signingSecret: SecretValue.ssmSecure('/slack/signing') } }, /SfnCallbacks: slack\.signingSecret: ssm-secure/],
    ['email without senders', { notify: { email: { sesIdentity: 'example.com', from: [], toDomains: ['*'] } } }, /SfnCallbacks: notify\.email\.from:/],
    ['email without recipient domains', { notify: { email: { sesIdentity: 'example.com', from: ['a@example.com'], toDomains: [] } } }, /SfnCallbacks: notify\.email\.toDomains:/],
    ['an http Teams prefix', { notify: { teamsWebhooks: ['http://teams.example.com/'] } }, /SfnCallbacks: notify\.teamsWebhooks\[0\]:/],
    ['a base URL with a trailing slash', { baseUrl: 'https://approvals.example.com/' }, /SfnCallbacks: baseUrl:/],
    ['a name too long for the function names', { name: 'x'.repeat(53) }, /SfnCallbacks: name:/],
    ['a qualified durable function', { durableFunctions: [`${DURABLE_ARN}:live`] }, /SfnCallbacks: durableFunctions\[0\]:/],
    ['an error rate over 100%', { errorRatePercent: 101 }, /SfnCallbacks: errorRatePercent:/],
    ['an unavailable threshold of 0', { unavailableThreshold: 0 }, /SfnCallbacks: unavailableThreshold:/],
  ];
  for (const [name, props, error] of cases) {
    test(name, () => {
      assert.throws(() => synth(props), error);
    });
  }

  test('the longest name that fits is accepted, and a 12-digit durable ARN too', () => {
    assert.doesNotThrow(() => synth({ name: 'x'.repeat(52), durableFunctions: [DURABLE_ARN] }));
  });
});
