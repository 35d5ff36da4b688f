// A fixture app: answers every request with its name on $PORT.
package main

import (
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("fixture-go-app\n"))
	})
	panic(http.ListenAndServe(":"+port, nil))
}
