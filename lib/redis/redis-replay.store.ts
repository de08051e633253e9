import type { Cluster, Redis } from 'ioredis';
import {
  type ReplayInsertResult,
  ReplayStore,
  type ReplayStoreHealth,
  replayStoreUnavailable,
} from '../core/replay-store.interface.js';
import type { ChecklistStep } from '../core/signature-verification.error.js';
import type { VerifierLogger } from '../core/verifier-logger.interface.js';

/** Options of {@link RedisReplayStore}. */
export interface RedisReplayStoreOptions {
  /**
   * Prefix of every key this store writes. Default `adcp:replay:`. It may not contain `{` or `}`: Redis
   * Cluster would take a hash tag from the prefix instead of the keyid (see the class comment).
   */
  keyPrefix?: string;
  /** Entries per keyid before new signatures get `request_signature_rate_abuse` (§g). Default 1,000,000. */
  perKeyidCap?: number;
  /**
   * Longest a Redis command may take (including event-loop queueing) before the request is refused (fail
   * closed). Default 1,000 ms; at most 2,147,483,647 (Node's timer limit: a longer delay, `Infinity`
   * included, would fire after 1 ms).
   */
  commandTimeoutMs?: number;
  /**
   * Called once each time an insert brings a keyid to its cap, by the instance that made that insert
   * (not on every refused request); called again only after expiries took the keyid below the cap and it
   * reached the cap anew, as the in-memory store does. Anything it throws is ignored.
   */
  onCapReached?: (keyid: string) => void;
  /**
   * Read `maxmemory` and `maxmemory-policy` with `INFO memory` (default `true`) and refuse inserts while
   * Redis may evict keys. Set `false` only when this client may not run `INFO` (an ACL without
   * `+info`, a proxy that does not forward it) and you have checked `maxmemory-policy noeviction`
   * yourself: an evicted nonce is accepted again.
   */
  checkMaxmemoryPolicy?: boolean;
  /**
   * Where a change of the maxmemory verdict is reported (inserts refused, then accepted again).
   * Default `console`: a store that refuses every request must not do so silently.
   */
  logger?: VerifierLogger;
}

/** Why {@link RedisReplayStore.health} reports `down`: a stable code, safe to show on a health endpoint. */
export type RedisReplayStoreDownReason =
  | 'unreachable'
  | 'maxmemory_policy_evicts'
  | 'maxmemory_policy_unknown';

/** The longest delay Node's timers honour; a longer one (`Infinity` included) fires after 1 ms. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * How long Redis keeps an entry past its expiry. The answers follow the caller's clock (the nonce key
 * holds its expiry, and a key at or past it counts as absent), so `PX` only cleans up; the margin keeps
 * the entry for an instance whose clock runs up to this much behind the instance that inserted it.
 */
const CLEANUP_MARGIN_MS = 60_000;

/** How often the maxmemory policy is read again, on the caller's clock, while inserts are accepted. */
const POLICY_RECHECK_MS = 60_000;
/** The same while inserts are refused, so a fixed policy is noticed within about a second of traffic. */
const POLICY_RECHECK_WHILE_REFUSING_MS = 1_000;

/**
 * One atomic server-side step for checklist steps 12 and 13 (§g sketch). KEYS: nonce key, per-keyid
 * set. ARGV: now ms, expiresAt ms, cap, nonce, cleanup margin ms. Answers:
 * - `replayed`: the nonce key holds an expiry after `now`;
 * - `rate_abuse`: the set counts `cap` entries expiring after `now`;
 * - `ok`: held until `expiresAt` (the key's value, compared with the caller's `now`, so both stores
 *   answer a sequence the same way), `PX` and the set's `PEXPIRE` only clean up;
 * - `ok_capped`: the same, and this insert brought the keyid to its cap.
 * The first write is `SET`, which Redis refuses when memory is over `maxmemory` (deny-oom): a script is
 * checked for memory only at its first write, and only if that write is deny-oom, so writing anything
 * else first (`ZREMRANGEBYSCORE`) would let every insert grow Redis past its limit. Then the insert
 * fails closed with an OOM error. Without a `#!lua` shebang, so it runs on Redis 6 as well.
 */
const CHECK_AND_INSERT_SCRIPT = `
local now = tonumber(ARGV[1])
local expiresAt = tonumber(ARGV[2])
local margin = tonumber(ARGV[5])
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) > now then return 'replayed' end
local live = redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf')
if live >= tonumber(ARGV[3]) then return 'rate_abuse' end
local ttl = expiresAt - now
if ttl <= 0 then return 'ok' end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl + margin)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local added = redis.call('ZADD', KEYS[2], expiresAt, ARGV[4])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(last[2]) - now) + margin)
if added == 1 and live + 1 == tonumber(ARGV[3]) then return 'ok_capped' end
return 'ok'
`;

/** What the store knows about Redis's eviction settings. */
type PolicyVerdict =
  | { readonly state: 'unchecked' }
  | { readonly state: 'accepted' }
  | { readonly state: 'evicts' | 'unknown'; readonly problem: string };

/**
 * A {@link ReplayStore} shared by every instance of a seller through Redis (or Redis Cluster): a nonce
 * accepted by one instance is refused by all. Fails closed: when Redis errors or is slower than
 * `commandTimeoutMs`, the request is refused with `request_signature_jwks_unavailable` (the taxonomy's
 * only retryable code; see the README) and is never accepted without a dedup check.
 *
 * Redis must never evict: a nonce evicted under memory pressure is accepted again, silently. The store
 * reads `INFO memory` (which managed services allow where `CONFIG` is disabled) on its first insert and
 * again every minute of the caller's clock (every second while refusing; `health()` reads it too), and
 * while `maxmemory` is set with a `maxmemory-policy` other than `noeviction` it refuses every insert and
 * reports `down`. Between reads the verdict is cached: no extra round trip per request.
 */
export class RedisReplayStore extends ReplayStore {
  private readonly keyPrefix: string;
  private readonly perKeyidCap: number;
  private readonly commandTimeoutMs: number;
  private readonly onCapReached: ((keyid: string) => void) | undefined;
  private readonly checkMaxmemoryPolicy: boolean;
  private readonly logger: VerifierLogger;

  private policy: PolicyVerdict = { state: 'unchecked' };
  /** The caller's clock at the last successful read, and when the next one is due. */
  private policyReadAt = Number.NEGATIVE_INFINITY;
  private nextPolicyReadAt = Number.NEGATIVE_INFINITY;
  /** The read in flight, shared by the inserts that wait for it. */
  private policyRead: Promise<void> | undefined;

  constructor(
    private readonly client: Redis | Cluster,
    options: RedisReplayStoreOptions = {},
  ) {
    super();
    this.keyPrefix = options.keyPrefix ?? 'adcp:replay:';
    this.perKeyidCap = options.perKeyidCap ?? 1_000_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
    this.onCapReached = options.onCapReached;
    this.checkMaxmemoryPolicy = options.checkMaxmemoryPolicy ?? true;
    this.logger = options.logger ?? console;
    if (typeof this.keyPrefix !== 'string' || /[{}]/.test(this.keyPrefix)) {
      // Redis Cluster hashes the first `{…}` of a key: a brace in the prefix would replace the keyid's
      // tag (every keyid on one slot) or leave an empty one (a nonce key and its set on two slots).
      throw new RangeError(
        `keyPrefix must be a string without "{" or "}", got ${JSON.stringify(this.keyPrefix)}`,
      );
    }
    if (!Number.isInteger(this.perKeyidCap) || this.perKeyidCap < 1) {
      throw new RangeError('perKeyidCap must be a positive integer');
    }
    if (
      typeof this.commandTimeoutMs !== 'number' ||
      !(this.commandTimeoutMs > 0 && this.commandTimeoutMs <= MAX_TIMER_DELAY_MS)
    ) {
      throw new RangeError(
        `commandTimeoutMs must be above 0 and at most ${MAX_TIMER_DELAY_MS} ms (Node's timer limit), ` +
          `got ${String(this.commandTimeoutMs)}`,
      );
    }
    if (!this.checkMaxmemoryPolicy) this.policy = { state: 'accepted' };
  }

  override async isCapReached(keyid: string, nowMs: number): Promise<boolean> {
    const count = await this.run(
      () => this.client.zcount(this.setKey(keyid), `(${Math.floor(nowMs)}`, '+inf'),
      keyid,
      '9a',
    );
    return Number(count) >= this.perKeyidCap;
  }

  override async checkAndInsert(
    keyid: string,
    nonce: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<ReplayInsertResult> {
    if (this.checkMaxmemoryPolicy && this.policyReadIsDue(nowMs)) {
      await this.refreshPolicy(nowMs, keyid);
    }
    const policy = this.policy;
    if (policy.state === 'evicts' || policy.state === 'unknown') {
      throw replayStoreUnavailable(keyid, 13, new Error(policy.problem));
    }
    const answer = await this.run(
      () =>
        this.client.eval(
          CHECK_AND_INSERT_SCRIPT,
          2,
          this.nonceKey(keyid, nonce),
          this.setKey(keyid),
          Math.floor(nowMs),
          Math.floor(expiresAtMs),
          this.perKeyidCap,
          nonce,
          CLEANUP_MARGIN_MS,
        ),
      keyid,
      13,
    );
    if (answer === 'ok_capped') {
      try {
        this.onCapReached?.(keyid);
      } catch {
        // An alerting hook must never change the verdict.
      }
      return 'ok';
    }
    if (answer === 'replayed' || answer === 'ok' || answer === 'rate_abuse') return answer;
    throw replayStoreUnavailable(
      keyid,
      13,
      new Error(`unexpected script answer ${String(answer)}`),
    );
  }

  /**
   * Reads the eviction settings within the command timeout (which also proves Redis reachable; a plain
   * PING with `checkMaxmemoryPolicy: false`). `down` means inserts are refused (fail closed), with a
   * {@link RedisReplayStoreDownReason}. The answer also updates the verdict inserts follow.
   */
  override async health(): Promise<ReplayStoreHealth> {
    try {
      if (this.checkMaxmemoryPolicy) {
        this.applyPolicy(await this.readPolicy(''));
      } else {
        await this.run(() => this.client.ping(), '', 13);
      }
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      return {
        backend: 'redis',
        state: 'down',
        reason: 'unreachable' satisfies RedisReplayStoreDownReason,
        error: cause instanceof Error ? cause.message : 'unreachable',
      };
    }
    const policy = this.policy;
    if (policy.state === 'evicts' || policy.state === 'unknown') {
      return {
        backend: 'redis',
        state: 'down',
        reason: (policy.state === 'evicts'
          ? 'maxmemory_policy_evicts'
          : 'maxmemory_policy_unknown') satisfies RedisReplayStoreDownReason,
        error: policy.problem,
      };
    }
    return { backend: 'redis', state: 'up' };
  }

  override async close(): Promise<void> {
    // The client belongs to the caller, who may share it; closing it is theirs to do.
  }

  /**
   * Keys carry a Redis Cluster hash tag so one keyid's nonces and its counting set share a slot (the
   * script touches both). The keyid is base64url-encoded so a `{` or `}` in it cannot break the tag, and
   * the tag starts with `k` so it is never empty (an empty keyid): Cluster hashes a key with an empty
   * tag whole, which would put the nonce key and the set on different slots (CROSSSLOT).
   */
  private setKey(keyid: string): string {
    return `${this.keyPrefix}{k${Buffer.from(keyid, 'utf8').toString('base64url')}}:count`;
  }

  private nonceKey(keyid: string, nonce: string): string {
    return `${this.keyPrefix}{k${Buffer.from(keyid, 'utf8').toString('base64url')}}:n:${nonce}`;
  }

  /**
   * Whether an insert must read the policy first: never read yet, due by the caller's clock, or that
   * clock stepped back by more than an interval (a read scheduled by the old time would be late).
   */
  private policyReadIsDue(nowMs: number): boolean {
    return nowMs >= this.nextPolicyReadAt || nowMs < this.policyReadAt - POLICY_RECHECK_MS;
  }

  /**
   * Reads the policy before an insert; concurrent inserts share one read. When the read fails (Redis
   * unreachable or slow) a policy already accepted stays in force, and the next insert tries again: the
   * insert itself fails closed if Redis is really away. Before any verdict, the insert is refused.
   */
  private async refreshPolicy(nowMs: number, keyid: string): Promise<void> {
    this.policyRead ??= this.readPolicy(keyid)
      .then((verdict) => {
        this.applyPolicy(verdict);
        this.policyReadAt = nowMs;
        this.nextPolicyReadAt =
          nowMs +
          (verdict.state === 'accepted' ? POLICY_RECHECK_MS : POLICY_RECHECK_WHILE_REFUSING_MS);
      })
      .finally(() => {
        this.policyRead = undefined;
      });
    try {
      await this.policyRead;
    } catch (error) {
      if (this.policy.state === 'accepted') return;
      // Labelled with this request's keyid, not the one of the insert that started the read.
      throw replayStoreUnavailable(keyid, 13, (error as { cause?: unknown }).cause ?? error);
    }
  }

  /**
   * `INFO memory` of every node that holds keys (each master of a Cluster): Redis evicts when
   * `maxmemory` is set and `maxmemory-policy` is not `noeviction`. A reply error (`INFO` denied by an
   * ACL, or renamed) gives `unknown`, also refused: nothing vouches that held nonces stay.
   */
  private async readPolicy(keyid: string): Promise<PolicyVerdict> {
    const nodes = this.client.isCluster
      ? (this.client as Cluster).nodes('master')
      : [this.client as Redis];
    if (nodes.length === 0) {
      throw replayStoreUnavailable(keyid, 13, new Error('no Redis Cluster master known yet'));
    }
    const problems: PolicyVerdict[] = [];
    for (const node of nodes) {
      let info: string;
      try {
        info = await this.run(() => node.info('memory'), keyid, 13);
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        if ((cause as { name?: unknown } | undefined)?.name !== 'ReplyError') throw error;
        problems.push({
          state: 'unknown',
          problem:
            `Redis refused INFO memory (${(cause as Error).message}), so the store cannot tell ` +
            'whether Redis evicts held nonces; refusing inserts (fail closed). Fix: allow INFO for ' +
            'this client (ACL +info), or check that maxmemory-policy is noeviction yourself and set ' +
            'checkMaxmemoryPolicy: false.',
        });
        continue;
      }
      const verdict = policyOf(info, nodeName(node));
      if (verdict.state !== 'accepted') problems.push(verdict);
    }
    return problems.find((problem) => problem.state === 'evicts') ?? problems[0] ?? ACCEPTED;
  }

  /** Adopts a verdict, logging each change into or out of refusing. */
  private applyPolicy(verdict: PolicyVerdict): void {
    const previous = this.policy;
    this.policy = verdict;
    if (verdict.state === 'evicts' || verdict.state === 'unknown') {
      if (previous.state !== verdict.state || previous.problem !== verdict.problem) {
        this.logger.warn(`RedisReplayStore: ${verdict.problem}`);
      }
    } else if (previous.state === 'evicts' || previous.state === 'unknown') {
      this.logger.warn('RedisReplayStore: Redis no longer evicts; inserts are accepted again.');
    }
  }

  /**
   * Runs one command with a deadline; every failure becomes the fail-closed error, labelled with the
   * checklist step the command serves (9a for the cap read, 13 for the insert).
   */
  private async run<T>(command: () => Promise<T>, keyid: string, step: ChecklistStep): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        // Rejected from the check phase, after the event loop's next poll: when a burst keeps the loop
        // busy past the deadline, an answer already waiting in the socket still wins the race instead of
        // refusing a request Redis did answer in time.
        () =>
          setImmediate(() =>
            reject(new Error(`Redis command exceeded ${this.commandTimeoutMs} ms`)),
          ),
        this.commandTimeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([command(), deadline]);
    } catch (error) {
      throw replayStoreUnavailable(keyid, step, error);
    } finally {
      clearTimeout(timer);
    }
  }
}

const ACCEPTED: PolicyVerdict = { state: 'accepted' };

/** The verdict of one node's `INFO memory` text. */
function policyOf(info: string, node: string): PolicyVerdict {
  const maxmemory = /^maxmemory:(\d+)\r?$/m.exec(info)?.[1];
  const policy = /^maxmemory_policy:([\w-]+)\r?$/m.exec(info)?.[1];
  if (maxmemory === undefined || policy === undefined) {
    return {
      state: 'unknown',
      problem:
        `INFO memory of Redis ${node} names no maxmemory or maxmemory_policy, so the store cannot tell ` +
        'whether Redis evicts held nonces; refusing inserts (fail closed). Fix: use a Redis that ' +
        'reports them, or check that maxmemory-policy is noeviction yourself and set ' +
        'checkMaxmemoryPolicy: false.',
    };
  }
  if (maxmemory === '0' || policy === 'noeviction') return ACCEPTED;
  return {
    state: 'evicts',
    problem:
      `Redis ${node} has maxmemory ${maxmemory} with maxmemory-policy ${policy}: under memory ` +
      'pressure it would evict held nonces and accept their replays, so inserts are refused (fail ' +
      'closed). Fix: set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, or the ' +
      "parameter group / server setting of a managed Redis), on a Redis the application's cache does " +
      'not share.',
  };
}

function nodeName(node: Redis): string {
  const { host, port } = node.options;
  return host === undefined || port === undefined ? '(node)' : `${host}:${port}`;
}
