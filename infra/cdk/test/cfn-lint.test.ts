import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { FrontDoor, KeyMode, SfnCallbacks } from '../src';
import { addCallbacks, everything, logicalId, newStack, type TestProps } from './helpers';

/**
 * cfn-lint, from `SFN_CALLBACKS_CFN_LINT`. Missing: the tests skip, unless
 * `SFN_CALLBACKS_REQUIRE_CFN_LINT=1`, when they fail.
 */
const CFN_LINT = process.env.SFN_CALLBACKS_CFN_LINT;
const REQUIRED = process.env.SFN_CALLBACKS_REQUIRE_CFN_LINT === '1';
const available = CFN_LINT !== undefined && CFN_LINT !== '' && fs.existsSync(CFN_LINT);

/** One finding, as the tests compare them: rule, where, and the dependency a W3005 names. */
interface Finding {
  readonly rule: string;
  readonly path: string;
  readonly dependency?: string;
}

/** One stack to lint. */
interface Variant {
  readonly name: string;
  readonly props: (stack: Stack) => TestProps;
  /** Adds the user's own constructs around the construct. */
  readonly around?: (callbacks: SfnCallbacks, stack: Stack) => void;
  /**
   * The findings expected in the template, caused by the user's constructs
   * (never by the construct's own resources).
   *
   * @default - none at all
   */
  readonly expected?: (stack: Stack) => Finding[];
}

/** Every option on, and alarms. */
const all = (stack: Stack): TestProps => ({ ...everything(stack), alarmTopic: new sns.Topic(stack, 'Alarms') });

/** A user's key, a caller granted both ways, and a dependency added to a function. */
const userConstructs = (frontDoor: FrontDoor): Variant => ({
  name: `${frontDoor}, a kms.Key given, grantCreateUrls on a role, a dependency added to a function`,
  props: (stack) => ({ frontDoor, encryptionKey: new kms.Key(stack, 'UserKey', { enableKeyRotation: true }) }),
  around: (callbacks, stack) => {
    callbacks.grantCreateUrls(new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    callbacks.callbackFunction.node.addDependency(new sqs.Queue(stack, 'Queue', { enforceSSL: true }));
  },
});

const VARIANTS: Variant[] = [
  // Each front door, each key mode, with defaults and with every option.
  ...(['HttpApi', 'RestApi', 'FunctionUrl'] as const).flatMap((frontDoor) =>
    (['kms-envelope', 'kms'] as const).flatMap((keyMode: KeyMode) =>
      [false, true].map((every): Variant => ({
        name: `${frontDoor}, ${keyMode}, ${every ? 'every option and alarms' : 'defaults'}`,
        props: (stack) => ({
          frontDoor,
          keyMode,
          keyring: keyMode === 'kms' ? 'AQICAHh-encrypted-keyring' : undefined,
          ...(every ? all(stack) : {}),
        }),
      })))),
  ...(['HttpApi', 'RestApi'] as const).map((frontDoor): Variant => ({
    name: `${frontDoor}, createUrlsOverHttp false`,
    props: () => ({ frontDoor, createUrlsOverHttp: false }),
  })),
  ...(['HttpApi', 'RestApi', 'FunctionUrl'] as const).map(userConstructs),
  {
    name: 'approvalTask in an sfn.StateMachine, every option',
    props: all,
    around: (callbacks, stack) => {
      const approve = callbacks.approvalTask(stack, 'Approve', {
        actions: [
          { name: 'approve', type: 'success', output: { approved: true } },
          { name: 'reject', type: 'failure', error: 'Rejected', cause: sfn.JsonPath.stringAt('$.reason') },
        ],
        expiration: sfn.JsonPath.stringAt('$.deadline'),
        notify: { email: { to: 'lead@example.com' }, slack: { channel: 'C0123' }, context: sfn.JsonPath.objectAt('$') },
        approvers: { emails: ['lead@example.com'] },
        requester: sfn.JsonPath.stringAt('$.requester'),
        enableOutputParameters: true,
      });
      new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(approve) });
    },
    // The StateMachine L2 (the user's construct, not this one) makes the
    // machine depend on its role, which its RoleArn already references.
    expected: (stack) => [{
      rule: 'W3005',
      path: `Resources/${logicalId(stack, stack, 'Machine')}/DependsOn`,
      dependency: logicalId(stack, stack, 'Machine/Role'),
    }],
  },
];

/** Synthesizes one variant into a fresh directory; returns the template file and the findings it should have. */
function synthesize(variant: Variant): { file: string; expected: Finding[] } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfn-callbacks-cdk-lint-'));
  const stack = newStack(outdir);
  const callbacks = addCallbacks(stack, variant.props(stack));
  variant.around?.(callbacks, stack);
  (stack.node.root as App).synth();
  return { file: path.join(outdir, `${stack.artifactId}.template.json`), expected: variant.expected?.(stack) ?? [] };
}

/** cfn-lint's JSON finding, the fields the tests read. */
interface LintFinding {
  readonly Filename: string;
  readonly Level: string;
  readonly Message: string;
  readonly Location: { readonly Path: (string | number)[] };
  readonly Rule: { readonly Id: string };
}

function finding(lint: LintFinding): Finding {
  const dependency = /^'([^']+)' dependency already enforced/.exec(lint.Message)?.[1];
  return {
    rule: lint.Rule.Id,
    path: lint.Location.Path.slice(0, 3).join('/'),
    ...(dependency === undefined ? {} : { dependency }),
  };
}

/** Without cfn-lint, and not required: skip, saying why. */
const skip = !available && !REQUIRED ? 'no cfn-lint: set SFN_CALLBACKS_CFN_LINT to its path' : false;

describe('cfn-lint', () => {
  const templates = new Map<string, { file: string; expected: Finding[] }>();
  let lint: SpawnSyncReturns<string> | undefined;
  let findings: LintFinding[] = [];

  // One cfn-lint run over every template: its start-up is most of its time.
  before(() => {
    if (skip) {
      return;
    }
    assert.ok(available, `SFN_CALLBACKS_REQUIRE_CFN_LINT=1 but no cfn-lint at SFN_CALLBACKS_CFN_LINT=${CFN_LINT ?? '(unset)'}`);
    for (const variant of VARIANTS) {
      templates.set(variant.name, synthesize(variant));
    }
    const files = [...templates.values()].map((template) => template.file);
    lint = spawnSync(CFN_LINT as string, ['--format', 'json', ...files], { encoding: 'utf8' });
    findings = JSON.parse(lint.stdout) as LintFinding[];
  });

  after(() => {
    for (const { file } of templates.values()) {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  test('cfn-lint ran, said nothing on stderr, and found only the expected warnings', { skip }, () => {
    assert.ok(lint);
    assert.equal(lint.error, undefined, `cfn-lint did not run: ${lint.error?.message}`);
    assert.equal(lint.stderr, '');
    const expected = [...templates.values()].flatMap((template) => template.expected);
    assert.equal(findings.length, expected.length, JSON.stringify(findings, null, 2));
    assert.ok(expected.length > 0, 'the StateMachine variant has its one expected finding');
    // Exit code 4: warnings only (2 would be errors, 8 informational).
    assert.equal(lint.status, 4);
  });

  for (const variant of VARIANTS) {
    const label = variant.expected ? 'only the user construct\'s expected finding' : 'no findings';
    test(`${variant.name}: ${label}`, { skip }, () => {
      const { file, expected } = templates.get(variant.name) as { file: string; expected: Finding[] };
      assert.ok(fs.statSync(file).size > 0);
      assert.deepEqual(findings.filter((f) => f.Filename === file).map(finding), expected);
    });
  }
});
