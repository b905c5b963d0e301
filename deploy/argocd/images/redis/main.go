// Command redis is Argo CD's cache for the embedded cluster: an in-memory Redis server
// (github.com/alicebob/miniredis/v2, the one Argo CD itself embeds for `argocd --core`).
// No persistence, as upstream's `--save "" --appendonly no`. The password comes from
// $REDIS_PASSWORD (the argocd-redis Secret), as upstream's `--requirepass`.
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

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
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	srv.Close()
}
