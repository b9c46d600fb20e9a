package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/breaker"
)

// DefaultRedisPrefix is the key prefix NewRedis uses when
// RedisOptions.Prefix is empty.
const DefaultRedisPrefix = "gatehouse:rl:"

// expiryMargin is how much longer than its TAT a key is kept. A key whose
// TAT has passed behaves exactly like a missing one, so the margin changes
// no result; it keeps a key alive while replicas that pass their own
// clocks (RedisOptions.Clock) disagree by less than this.
const expiryMargin = time.Second

// maxTolerance bounds the emission interval and Burst × interval, in
// microseconds, so that every time the script computes stays an exact
// integer in a Lua number (a double): now (~2^51 µs until 2100) plus
// 2^50 is well below 2^53. Absurd limits saturate instead.
const maxTolerance = 1 << 50

// gcraScript applies one event to KEYS[1]; it is the Lua twin of gcra.
// ARGV[1] is the emission interval and ARGV[2] the burst tolerance
// (Burst × interval), both in microseconds; ARGV[3] is now in microseconds
// since the Unix epoch, or empty to read the Redis server's TIME; ARGV[4]
// is expiryMargin in milliseconds. It returns {1, now - allowAt} when allowed (and stores the new TAT with an
// expiry), {0, retryAfter} when denied (and writes nothing). Times are
// microseconds because Lua numbers are doubles: nanoseconds since 1970 do
// not fit in 53 bits, microseconds do.
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local now
if ARGV[3] == "" then
  -- Redis < 5 replicates scripts verbatim and refuses writes after TIME
  -- unless effects replication is switched on; later versions always use it.
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local tat = now
local stored = redis.call("GET", KEYS[1])
if stored then
  tat = math.max(tonumber(stored), now)
end
local new = tat + interval
local diff = now - (new - tolerance)
if diff < 0 then
  return {0, -diff}
end
redis.call("SET", KEYS[1], new, "PX", math.ceil((new - now) / 1000) + tonumber(ARGV[4]))
return {1, diff}
`)

// RedisOptions configures NewRedis.
type RedisOptions struct {
	// Prefix is put before every key; DefaultRedisPrefix when empty.
	Prefix string
	// Clock, when set to anything but clock.System, gives the time of each
	// event (tests pass a clocktest.Fake). When nil or clock.System the
	// script reads the Redis server's TIME instead, so that replicas whose
	// clocks disagree still share one schedule.
	Clock clock.Clock
	// Timeout bounds each call to Redis (DefaultRedisTimeout when zero):
	// a Redis that does not answer within it is an error, so callers
	// reach their fail-open or fail-closed choice within Timeout.
	Timeout time.Duration
	// Breaker, when set, replaces the default circuit breaker (opens
	// after breaker.DefaultThreshold consecutive failures, probes every
	// breaker.DefaultCooldown).
	Breaker *breaker.Breaker
}

// DefaultRedisTimeout bounds each Redis call of the limiter unless
// RedisOptions.Timeout says otherwise.
const DefaultRedisTimeout = 500 * time.Millisecond

// ErrUnavailable is returned (wrapped) when the limiter cannot reach its
// store: a call timed out or failed, or the circuit breaker is open
// after repeated failures and the call was not even tried.
var ErrUnavailable = errors.New("ratelimit: store unavailable")

// Redis is a Limiter that keeps each key's TAT in Redis, so that every
// process using the same Redis (and prefix) shares one budget per key.
// Each event is one script call (EVALSHA) that reads and writes the key
// atomically. A key expires shortly after its TAT has passed, when it
// would be back to a full burst anyway, so idle keys do not accumulate.
//
// Times are kept in whole microseconds: the emission interval Per / Rate
// is rounded down to a microsecond (at least 1µs, so at most a million
// events per second per key), where Memory works in nanoseconds.
//
// Allow returns Redis failures as errors, never as an allowed Result; see
// the package documentation for how callers treat them.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	clk     clock.Clock // nil: the Redis server's TIME
	timeout time.Duration
	br      *breaker.Breaker
}

// NewRedis returns a GCRA limiter on client. It does not contact Redis;
// call Ping to check that it is reachable. The caller keeps ownership of
// client and closes it.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{client: client, prefix: opts.Prefix, clk: opts.Clock, timeout: opts.Timeout, br: opts.Breaker}
	if r.timeout <= 0 {
		r.timeout = DefaultRedisTimeout
	}
	if r.br == nil {
		r.br = breaker.New(opts.Clock, 0, 0)
	}
	if r.prefix == "" {
		r.prefix = DefaultRedisPrefix
	}
	if r.clk == clock.System {
		r.clk = nil
	}
	return r
}

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	if err := l.check(); err != nil {
		return Result{}, err
	}
	interval, tolerance := l.micros()
	now := ""
	if r.clk != nil {
		now = strconv.FormatInt(r.clk.Now().UnixMicro(), 10)
	}
	if err := r.br.Allow(); err != nil {
		return Result{}, fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	vals, err := gcraScript.Run(ctx, r.client, []string{r.prefix + key},
		interval, tolerance, now, expiryMargin.Milliseconds()).Int64Slice()
	r.br.Done(err)
	if err != nil {
		return Result{}, fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	if len(vals) != 2 {
		return Result{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 2", len(vals))
	}
	if vals[0] == 0 {
		return Result{RetryAfter: time.Duration(vals[1]) * time.Microsecond}, nil
	}
	return Result{Allowed: true, Remaining: int(vals[1] / interval)}, nil
}

// Reset forgets key, giving it a full burst again (after a successful
// login, for example).
func (r *Redis) Reset(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis: reset: %w", err)
	}
	return nil
}

// Ping checks that Redis answers within the call timeout, for readiness
// probes. It always asks Redis, breaker or not, and a success closes the
// breaker (a readiness probe doubles as the breaker's recovery probe).
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	err := r.client.Ping(ctx).Err()
	if err == nil {
		r.br.Done(nil)
	}
	if err != nil {
		return fmt.Errorf("ratelimit: redis: ping: %w", err)
	}
	return nil
}

// micros returns the emission interval and the burst tolerance
// (Burst × interval) in microseconds, both within [1, maxTolerance].
func (l Limit) micros() (interval, tolerance int64) {
	interval = min(max(int64(l.Per)/int64(l.Rate)/int64(time.Microsecond), 1), maxTolerance)
	burst := min(int64(l.Burst), maxTolerance/interval)
	return interval, burst * interval
}
