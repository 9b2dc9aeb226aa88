import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';

/**
 * One action of a CreateUrls request: one URL. Written as the request's
 * JSON (README, CreateUrls): `name`, `type`, and per type `output`
 * (success), `error`/`cause` (failure) or `outcomes` (post), plus the
 * optional `label`, `description`, `comment`, `one_click`, `form`,
 * `approvers` and `response`, in the request's own snake_case. Any value
 * may be a `JsonPath` (e.g. `sfn.JsonPath.stringAt('$.release')`).
 */
export interface CallbackAction {
  /** The action's name (`^\w+$`, at most 64 characters): the URL's key. */
  readonly name: string;
  /** What the link does. */
  readonly type: 'success' | 'failure' | 'heartbeat' | 'post';
  /** Any further field of the action, as CreateUrls takes it. */
  readonly [field: string]: unknown;
}

/**
 * The task state's own settings: every `LambdaInvoke` prop but the function,
 * the payload and the integration pattern, which the helper sets.
 */
export type ApprovalTaskStateProps = Omit<
  tasks.LambdaInvokeProps,
  'lambdaFunction' | 'payload' | 'integrationPattern' | 'payloadResponseOnly' | 'invocationType' | 'qualifier'
>;

/**
 * A CreateUrls request without its token (the task's own). Fields are the
 * request's (README, CreateUrls), camelCase here; objects inside (`notify`,
 * `approvers`, `baseUrl`) are passed as written, in the request's
 * snake_case. Any value may be a `JsonPath`.
 */
export interface ApprovalTaskProps extends ApprovalTaskStateProps {
  /** One URL per action: at least one, names unique. */
  readonly actions: CallbackAction[];
  /**
   * When the links stop working: RFC 3339 with an offset, in the future,
   * e.g. `sfn.JsonPath.stringAt('$.deadline')`.
   *
   * @default - the links never expire (the task's own timeout still applies)
   */
  readonly expiration?: string;
  /**
   * How the links reach people: `{email: {to, subject, …}}`, `{sns: …}`,
   * `{slack: …}` or `{teams: …}`, and `context` for the templates (README,
   * Notifications). Without it nobody learns the links, since the task's
   * result is the callback's.
   *
   * @default - none
   */
  readonly notify?: Record<string, unknown>;
  /**
   * Only these people may decide: `{emails, domains, groups}`; needs sign-in.
   *
   * @default - anyone holding a link
   */
  readonly approvers?: Record<string, unknown>;
  /**
   * Who asked, never allowed to decide: an email (checked against the
   * signed-in approver) or a Slack user ID (`U…`, against who pressed);
   * needs `approvers`.
   *
   * @default - none
   */
  readonly requester?: string;
  /**
   * Also make one review link for every action a person can press.
   *
   * @default false
   */
  readonly review?: boolean;
  /**
   * The language of the links' pages (`en`, `de`, `fr`, `es`, `ja`, `pt-BR`).
   *
   * @default - the browser's `Accept-Language`
   */
  readonly locale?: string;
  /**
   * Expand `$name` from the callback's query (the deployment must allow it).
   *
   * @default false
   */
  readonly enableOutputParameters?: boolean;
  /**
   * Retry the invoke on Lambda's service exceptions, as `LambdaInvoke` does
   * by default. Off here: a retry after a timeout can run CreateUrls twice,
   * sending a second notification with fresh links (the first ones still
   * work). Set it to `true`, or add your own `addRetry`, to choose otherwise.
   *
   * @default false
   */
  readonly retryOnServiceExceptions?: boolean;
  /**
   * Point the URLs at another deployment: a URL, or `{api_id, stage, region}`.
   *
   * @default - this deployment's
   */
  readonly baseUrl?: string | Record<string, unknown>;
}

/** The request fields of {@link ApprovalTaskProps}, by their JSON names. */
const REQUEST_FIELDS = {
  actions: 'actions',
  expiration: 'expiration',
  notify: 'notify',
  approvers: 'approvers',
  requester: 'requester',
  review: 'review',
  locale: 'locale',
  enableOutputParameters: 'enable_output_parameters',
  baseUrl: 'base_url',
} as const satisfies Partial<Record<keyof ApprovalTaskProps, string>>;

type RequestField = keyof typeof REQUEST_FIELDS;

/**
 * Splits {@link ApprovalTaskProps} into the CreateUrls payload (the task's
 * token first, then the fields that are set) and the state's own props.
 */
export function approvalPayload(props: ApprovalTaskProps): {
  payload: sfn.TaskInput;
  state: ApprovalTaskStateProps;
} {
  const request: Record<string, unknown> = { token: sfn.JsonPath.taskToken };
  const state: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (key in REQUEST_FIELDS) {
      if (value !== undefined) {
        request[REQUEST_FIELDS[key as RequestField]] = value;
      }
    } else {
      state[key] = value;
    }
  }
  return { payload: sfn.TaskInput.fromObject(request), state: state as ApprovalTaskStateProps };
}
