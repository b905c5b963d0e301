// Command redis is Argo CD's cache for the embedded cluster: an in-memory Redis server
// (github.com/alicebob/miniredis/v2, the one Argo CD itself embeds for `argocd --core`).
// No persistence, as upstream's `--save "" --appendonly no`. The password comes from
// $REDIS_PASSWORD (the argocd-redis Secret), as upstream's `--requirepass`.
//
// miniredis only ages keys when told to (FastForward), so a clock goroutine advances it
// with real time: without it no TTL ever expires, and Argo CD's repo-server would keep the
// commit of a branch cached forever (it caches `git ls-remote` with a TTL).
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
)

func main() {
	addr := flag.String("addr", ":6379", "address to listen on")
	flag.Parse()
	srv := miniredis.NewMiniRedis()
	if pw := os.Getenv("REDIS_PASSWORD"); pw != "" {
		srv.RequireAuth(pw)
	}
	if err := srv.StartAddr(*addr); err != nil {
		log.Fatalf("redis: %v", err)
	}
	log.Printf("redis (miniredis) listening on %s", srv.Addr())
	go func() {
		last := time.Now()
		for now := range time.Tick(250 * time.Millisecond) {
			srv.SetTime(now)
			srv.FastForward(now.Sub(last))
			last = now
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	srv.Close()
}
