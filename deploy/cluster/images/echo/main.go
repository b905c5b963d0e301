// echo: the e2e tests' tiny static HTTP server and client.
//
//	echo                 serve on $LISTEN (default :8080): GET / answers "<hostname>\n",
//	                     GET /healthz answers "ok\n"
//	echo fetch URL N     GET URL N times on fresh connections (so a Service spreads them),
//	                     print each answer; exit 1 if any request fails
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func serve() {
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

func fetch(url string, n int) {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	failed := 0
	for i := 0; i < n; i++ {
		resp, err := client.Get(url)
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			failed++
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(string(body)))
	}
	if failed > 0 {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "fetch" {
		n, err := strconv.Atoi(os.Args[3])
		if err != nil || n < 1 || n > 1000 {
			log.Fatal("usage: echo fetch URL N (1 <= N <= 1000)")
		}
		fetch(os.Args[2], n)
		return
	}
	serve()
}
