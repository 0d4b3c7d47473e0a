package attendance

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/livestat/livestat"
)

// DefaultConcurrency is how many broadcasts are worked on at once unless
// Options.Concurrency says otherwise: 20, so that a member's broadcasts of
// a month are reported in about the time of the slowest one. Each
// broadcast has one request in flight at a time.
//
// The pool does not keep a large sync within WeCom's limits, which count
// calls per minute and per hour, not calls at once: the Client's WeCom
// limiter does (livestat.WithWeComRateLimit: by default at most 9,000
// calls a minute and 141,750 an hour per API). A sync of hundreds of
// broadcasts runs at the limiter's pace whatever the pool's size. WeCom's
// errcode 45033 (too many concurrent calls) is livestat.ErrRateLimited and
// retried with the rate-limit backoff, like 45009.
const DefaultConcurrency = 20

// Schools builds the reports of several school broadcasts, up to
// opts.Concurrency at once, and returns them in the order of livingIDs.
// The first error cancels the others and is returned, naming its
// broadcast. No goroutine outlives the call.
func Schools(ctx context.Context, c *livestat.Client, livingIDs []string, opts Options) ([]*SchoolReport, error) {
	return each(ctx, livingIDs, opts, func(ctx context.Context, id string) (*SchoolReport, error) {
		return School(ctx, c, id, opts)
	})
}

// Corps builds the reports of several corp broadcasts as Schools does.
func Corps(ctx context.Context, c *livestat.Client, livingIDs []string, opts Options) ([]*CorpReport, error) {
	return each(ctx, livingIDs, opts, func(ctx context.Context, id string) (*CorpReport, error) {
		return Corp(ctx, c, id, opts)
	})
}

// SchoolLivingIDs returns the livingids of userID's broadcasts (the
// teacher's: living/get_user_all_livingid) that started at since or later,
// in the order the API lists them, to feed Schools. With a zero since it
// returns them all and fetches nothing else; otherwise it reads each one's
// start from school/living/get_living_info, opts.Concurrency at a time
// (opts.Progress counts them).
func SchoolLivingIDs(ctx context.Context, c *livestat.Client, userID string, since time.Time, opts Options) ([]string, error) {
	return livingIDsSince(ctx, c, userID, since, opts, func(ctx context.Context, id string) (livestat.UnixTime, error) {
		info, err := c.School.GetLivingInfo(ctx, id)
		if err != nil {
			return 0, err
		}
		return info.LivingStart, nil
	})
}

// CorpLivingIDs is SchoolLivingIDs for corp broadcasts, read with
// living/get_living_info; a broadcast that has not started counts from its
// booked start (reserve_start).
func CorpLivingIDs(ctx context.Context, c *livestat.Client, userID string, since time.Time, opts Options) ([]string, error) {
	return livingIDsSince(ctx, c, userID, since, opts, func(ctx context.Context, id string) (livestat.UnixTime, error) {
		info, err := c.Living.GetLivingInfo(ctx, id)
		if err != nil {
			return 0, err
		}
		if info.LivingStart == 0 {
			return info.ReserveStart, nil
		}
		return info.LivingStart, nil
	})
}

func livingIDsSince(ctx context.Context, c *livestat.Client, userID string, since time.Time, opts Options,
	start func(context.Context, string) (livestat.UnixTime, error)) ([]string, error) {
	var ids []string
	for id, err := range c.Living.LivingIDs(ctx, livestat.UserLivingIDsRequest{UserID: userID}) {
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if since.IsZero() {
		return ids, nil
	}
	starts, err := each(ctx, ids, opts, start)
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for i, id := range ids {
		if !starts[i].Time().Before(since) {
			out = append(out, id)
		}
	}
	return out, nil
}

// each runs f for every id, up to opts.Concurrency at once, and returns the
// results in the order of ids. The first error cancels the context of the
// others and is returned; each waits for every goroutine it started.
func each[T any](ctx context.Context, ids []string, opts Options, f func(context.Context, string) (T, error)) ([]T, error) {
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]T, len(ids))
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, n)
	started := 0
start:
	for i, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break start
		}
		// A failed worker cancels before it frees its slot: nothing
		// starts after the first error.
		if ctx.Err() != nil {
			break start
		}
		started++
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := f(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("attendance: living %s: %w", id, err)
					cancel()
				}
				return
			}
			out[i] = r
			done++
			if opts.Progress != nil {
				opts.Progress(done, len(ids))
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if started < len(ids) {
		return nil, ctx.Err() // the caller's context ended before every broadcast started
	}
	return out, nil
}
