package edge

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// registerBatchDenials gives a create refused by its rule inside a batch
// the answer registerCreateDenials gives it outside one: a 400 naming the
// scope field. The requests of a batch do not pass the router's
// middlewares, so without it the batch wrapped PocketBase's bare 400
// (found by the batch probes, edge/batchprobe_test.go). PocketBase answers
// a failed batch with the failed request's answer under
// data.requests.<i>.response; that answer is replaced, the wrapper kept.
func registerBatchDenials(app core.App) {
	app.OnBatchRequest().BindFunc(func(e *core.BatchRequestEvent) error {
		err := e.Next()
		var apiErr *router.ApiError
		if !errors.As(err, &apiErr) {
			return err
		}
		requests, _ := apiErr.Data["requests"].(map[string]any)
		for key, item := range requests {
			failed, _ := item.(map[string]any)
			response, _ := failed["response"].(*router.ApiError)
			i, convErr := strconv.Atoi(key)
			if response == nil || convErr != nil || i < 0 || i >= len(e.Batch) || !isCreateRuleFailure(response) {
				continue
			}
			// An upsert that creates has its method and URL rewritten to
			// the create's by the time it fails.
			spec := specOfPath(e.App, createdCollection(e.Batch[i]))
			if spec == nil {
				continue
			}
			if field := deniedField(spec); field != "" {
				failed["response"] = notAllowed(field)
			}
		}
		return err
	})
}

// createdCollection is the collection a batch request creates a record
// of, "" when it is not a create.
func createdCollection(r *core.InternalRequest) string {
	path, _, _ := strings.Cut(r.URL, "?")
	rest, ok := strings.CutPrefix(path, "/api/collections/")
	name, suffix, _ := strings.Cut(rest, "/")
	if !ok || !strings.EqualFold(r.Method, http.MethodPost) || suffix != "records" {
		return ""
	}
	return name
}
