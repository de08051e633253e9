import type { Cluster, Redis } from 'ioredis';
import {
  type ReplayInsertResult,
  ReplayStore,
  type ReplayStoreHealth,
  replayStoreUnavailable,
} from '../core/replay-store.interface.js';
import type { ChecklistStep } from '../core/signature-verification.error.js';

/** Options of {@link RedisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** Prefix of every key this store writes. Default `adcp:replay:`. */
  keyPrefix?: string;
  /** Entries per keyid before new signatures get `request_signature_rate_abuse` (§g). Default 1,000,000. */
  perKeyidCap?: number;
  /** Longest a Redis command may take (including event-loop queueing) before the request is refused (fail closed). Default 1,000 ms. */
  commandTimeoutMs?: number;
  /** Called when an insert finds a keyid at its cap (alerting). */
  onCapReached?: (keyid: string) => void;
}

/**
 * One atomic server-side step for checklist steps 12 and 13 (§g sketch): drop the keyid's expired
 * entries, answer `replayed` for a held nonce, `rate_abuse` at the cap, otherwise insert the nonce with
 * TTL = expiresAt − now (milliseconds) and record it in the keyid's sorted set so counts stay exact.
 * KEYS: nonce key, per-keyid set. ARGV: now ms, expiresAt ms, cap, nonce.
 */
const CHECK_AND_INSERT_SCRIPT = `
local now = tonumber(ARGV[1])
local expiresAt = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('EXISTS', KEYS[1]) == 1 then return 'replayed' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 'rate_abuse' end
local ttl = expiresAt - now
if ttl <= 0 then return 'ok' end
redis.call('SET', KEYS[1], '1', 'PX', ttl)
redis.call('ZADD', KEYS[2], expiresAt, ARGV[4])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(last[2]) - now))
return 'ok'
`;

/**
 * A {@link ReplayStore} shared by every instance of a seller through Redis (or Redis Cluster): a nonce
 * accepted by one instance is refused by all. Fails closed: when Redis errors or is slower than
 * `commandTimeoutMs`, the request is refused with `request_signature_jwks_unavailable` (the taxonomy's
 * only retryable code; see the README) and is never accepted without a dedup check.
 */
export class RedisReplayStore extends ReplayStore {
  private readonly keyPrefix: string;
  private readonly perKeyidCap: number;
  private readonly commandTimeoutMs: number;
  private readonly onCapReached: ((keyid: string) => void) | undefined;

  constructor(
    private readonly client: Redis | Cluster,
    options: RedisReplayStoreOptions = {},
  ) {
    super();
    this.keyPrefix = options.keyPrefix ?? 'adcp:replay:';
    this.perKeyidCap = options.perKeyidCap ?? 1_000_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
    this.onCapReached = options.onCapReached;
    if (!Number.isInteger(this.perKeyidCap) || this.perKeyidCap < 1) {
      throw new RangeError('perKeyidCap must be a positive integer');
    }
    if (!(this.commandTimeoutMs > 0)) throw new RangeError('commandTimeoutMs must be positive');
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
        ),
      keyid,
      13,
    );
    if (answer === 'rate_abuse') {
      try {
        this.onCapReached?.(keyid);
      } catch {
        // An alerting hook must never change the verdict.
      }
      return 'rate_abuse';
    }
    if (answer === 'replayed' || answer === 'ok') return answer;
    throw replayStoreUnavailable(
      keyid,
      13,
      new Error(`unexpected script answer ${String(answer)}`),
    );
  }

  /** PINGs Redis within the command timeout: `down` means requests are being refused (fail closed). */
  override async health(): Promise<ReplayStoreHealth> {
    try {
      await this.run(() => this.client.ping(), '', 13);
      return { backend: 'redis', state: 'up' };
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      return {
        backend: 'redis',
        state: 'down',
        error: cause instanceof Error ? cause.message : 'unreachable',
      };
    }
  }

  override async close(): Promise<void> {
    // The client belongs to the caller, who may share it; closing it is theirs to do.
  }

  /**
   * Keys carry a Redis Cluster hash tag so one keyid's nonces and its counting set share a slot (the
   * script touches both). The keyid is base64url-encoded so a `{` or `}` in it cannot break the tag.
   */
  private setKey(keyid: string): string {
    return `${this.keyPrefix}{${Buffer.from(keyid, 'utf8').toString('base64url')}}:count`;
  }

  private nonceKey(keyid: string, nonce: string): string {
    return `${this.keyPrefix}{${Buffer.from(keyid, 'utf8').toString('base64url')}}:n:${nonce}`;
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
