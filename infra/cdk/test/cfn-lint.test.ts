import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type App, SecretValue, type Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { FrontDoor, KeyMode } from '../src';
import { addCallbacks, newStack, type TestProps } from './helpers';

/**
 * cfn-lint, from `SFN_CALLBACKS_CFN_LINT`. Missing: the tests skip, unless
 * `SFN_CALLBACKS_REQUIRE_CFN_LINT=1`, when they fail.
 */
const CFN_LINT = process.env.SFN_CALLBACKS_CFN_LINT;
const REQUIRED = process.env.SFN_CALLBACKS_REQUIRE_CFN_LINT === '1';
const available = CFN_LINT !== undefined && CFN_LINT !== '' && fs.existsSync(CFN_LINT);

/** Every option on, alarms too. */
function everything(stack: Stack): TestProps {
  return {
    baseUrl: 'https://approvals.example.com',
    durableFunctions: ['arn:aws:lambda:eu-west-1:123456789012:function:order-approval'],
    enableOutputParameters: true,
    enablePostActions: true,
    getActs: true,
    verboseLogging: true,
    notify: {
      email: { sesIdentity: 'example.com', from: ['approvals@example.com'], toDomains: ['example.com'] },
      snsTopics: [new sns.Topic(stack, 'Approvals')],
      teamsWebhooks: ['https://*.environment.api.powerplatform.com/powerautomate/'],
    },
    slack: {
      botToken: SecretValue.secretsManager('slack', { jsonField: 'botToken' }),
      signingSecret: SecretValue.secretsManager('slack', { jsonField: 'signingSecret' }),
      channels: ['C0123'],
    },
    oidc: {
      issuer: 'https://login.example.com',
      clientId: 'client-1',
      clientSecret: SecretValue.secretsManager('oidc', { jsonField: 'clientSecret' }),
    },
    alarmTopic: new sns.Topic(stack, 'Alarms'),
  };
}

/** Synthesizes one combination into a fresh directory; returns the template file. */
function synthesize(frontDoor: FrontDoor, keyMode: KeyMode, all: boolean): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfn-callbacks-cdk-lint-'));
  const stack = newStack(outdir);
  addCallbacks(stack, {
    frontDoor,
    keyMode,
    keyring: keyMode === 'kms' ? 'AQICAHh-encrypted-keyring' : undefined,
    ...(all ? everything(stack) : {}),
  });
  (stack.node.root as App).synth();
  return path.join(outdir, `${stack.artifactId}.template.json`);
}

/** Each front door, each key mode, with defaults and with every option. */
const COMBINATIONS = (['HttpApi', 'RestApi', 'FunctionUrl'] as const).flatMap((frontDoor) =>
  (['kms-envelope', 'kms'] as const).flatMap((keyMode) =>
    [false, true].map((all) => ({ frontDoor, keyMode, all }))));

/** Without cfn-lint, and not required: skip, saying why. */
const skip = !available && !REQUIRED ? 'no cfn-lint: set SFN_CALLBACKS_CFN_LINT to its path' : false;

describe('cfn-lint', () => {
  const files = new Map<string, string>();
  let lint: SpawnSyncReturns<string> | undefined;

  // One cfn-lint run over every template: its start-up is most of its time.
  before(() => {
    if (skip) {
      return;
    }
    assert.ok(available, `SFN_CALLBACKS_REQUIRE_CFN_LINT=1 but no cfn-lint at SFN_CALLBACKS_CFN_LINT=${CFN_LINT ?? '(unset)'}`);
    for (const { frontDoor, keyMode, all } of COMBINATIONS) {
      files.set(`${frontDoor} ${keyMode} ${all}`, synthesize(frontDoor, keyMode, all));
    }
    lint = spawnSync(CFN_LINT as string, [...files.values()], { encoding: 'utf8' });
  });

  after(() => {
    for (const file of files.values()) {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  test('cfn-lint ran and exited 0 with no output', { skip }, () => {
    assert.ok(lint);
    assert.equal(lint.error, undefined, `cfn-lint did not run: ${lint.error?.message}`);
    assert.equal(`${lint.stdout}${lint.stderr}`, '', 'cfn-lint findings');
    assert.equal(lint.status, 0);
  });

  for (const { frontDoor, keyMode, all } of COMBINATIONS) {
    test(`${frontDoor}, ${keyMode}, ${all ? 'every option and alarms' : 'defaults'}: no findings`, { skip }, () => {
      const file = files.get(`${frontDoor} ${keyMode} ${all}`) as string;
      assert.ok(fs.statSync(file).size > 0);
      const findings = `${lint?.stdout ?? ''}`.split('\n\n').filter((finding) => finding.includes(file));
      assert.deepEqual(findings, []);
    });
  }
});

