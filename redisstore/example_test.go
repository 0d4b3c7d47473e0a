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
	corpID, appSecret, agentID := "wwcorp", os.Getenv("WECOM_APP_SECRET"), "1000002"
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{"redis:6379"}, // several for Cluster, MasterName for Sentinel
		ContextTimeoutEnabled: true,                   // so Options.Timeout also bounds socket I/O
		DialTimeout:           time.Second,            // fail fast: livestat carries on without Redis
	})
	defer rdb.Close()
	store := redisstore.New(rdb, redisstore.Options{Logger: logger}) // the other fields: the defaults below

	c, err := livestat.NewClient(
		livestat.WithWeComApp(corpID, appSecret),
		livestat.WithAppID(agentID), // names the app in the Redis key
		livestat.WithTokenStore(store),
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

	appKey, appSecret := "my-app-key", os.Getenv("NUOYUN_APP_SECRET")

	lim := redisstore.NewLimiter(rdb, redisstore.LimiterOptions{
		Key: "nuoyun:" + appKey, // one quota per Nuoyun account
		// Requests: 900, Period: 10 * time.Second are the defaults.
		// While Redis is down, each of at most 4 processes keeps to a
		// quarter of that, less a margin (default: 8 processes).
		Replicas: 4,
	})
	c, err := livestat.NewClient(
		livestat.WithNuoyunAuth(livestat.NewSignAuthorizer(appKey, appSecret)),
		livestat.WithNuoyunLimiter(lim), // in place of the per-process pacing
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c // every Nuoyun request of c waits on lim; so can your own code:

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := lim.Wait(ctx); err != nil { // before each request
		fmt.Println(err)
		return
	}
}
