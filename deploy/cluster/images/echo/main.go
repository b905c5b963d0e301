// echo: the e2e tests' tiny static HTTP server. GET / answers "<pod hostname>\n", so a
// test can count how requests spread over replicas; GET /healthz answers "ok".
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	host, _ := os.Hostname()
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = ":8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, host)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("echo listening on %s", addr)
	log.Fatal(srv.ListenAndServe())
}
