package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every replica of a service builds its Client like this; they then share
// one access token per corp and app, and only one of them calls gettoken
// at a time.
func Example() {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: []string{"redis:6379"}, // several for Cluster; MasterName for Sentinel
		// Fail fast when Redis is unreachable: livestat then carries on
		// without it. ContextTimeoutEnabled lets the store's Timeout bound
		// socket I/O too.
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
	})
	defer rdb.Close()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	c, err := livestat.NewClient(
		livestat.WithWeComApp("wwcorp", os.Getenv("WECOM_APP_SECRET")),
		livestat.WithAppID("1000002"), // names the app in the Redis key
		livestat.WithTokenStore(redisstore.New(rdb, redisstore.Options{Logger: logger})),
		livestat.WithLogger(logger), // hears when Redis fails
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c
}

// A Limiter shared by every replica keeps their Nuoyun requests together
// under the account's limit.
func ExampleNewLimiter() {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"redis:6379"}, ContextTimeoutEnabled: true})
	defer rdb.Close()

	lim := redisstore.NewLimiter(rdb, redisstore.LimiterOptions{
		Key: "nuoyun:my-app-key", // one quota per Nuoyun account
		// Requests: 900, Period: 10 * time.Second are the defaults.
		// While Redis is down, each of at most 4 processes keeps to a
		// quarter of that, less a margin (default: 8 processes).
		Replicas: 4,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := lim.Wait(ctx); err != nil { // before each request
		fmt.Println(err)
		return
	}
}
