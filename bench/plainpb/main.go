// Command plainpb is the benchmark's reference: plain PocketBase v0.40 with
// Hearth's schema and API rules (pb_migrations) and nothing else: none of
// Hearth's hooks, routes, middlewares, JS hooks or settings. bench runs it
// side by side with bin/hearth on copies of the same data.
//
//	go build -o bin/plainpb ./bench/plainpb
//	bin/plainpb serve --http 127.0.0.1:8091 --dir /tmp/data
package main

import (
	"log"

	_ "github.com/crews/hearth/pb_migrations"
	"github.com/pocketbase/pocketbase"
)

func main() {
	if err := pocketbase.New().Start(); err != nil {
		log.Fatal(err)
	}
}
