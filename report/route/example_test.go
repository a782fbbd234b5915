package route_test

import (
	"fmt"

	"github.com/parity-dev/parity/report/route"
)

func ExampleKeyer() {
	k := route.NewKeyer([]string{"/api/sessions/:id", "POST /api/tools/:tool/run"})
	fmt.Println(k.Key("GET", "/api/sessions/abc?limit=10"))
	fmt.Println(k.Key("POST", "/api/tools/grep/run"))
	fmt.Println(k.Key("DELETE", "/api/v1/workflows/3f2b8c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f"))
	fmt.Println(k.Key("GET", "/api/users/s12/avatar"))
	// Output:
	// GET /api/sessions/:id
	// POST /api/tools/:tool/run
	// DELETE /api/v1/workflows/:id
	// GET /api/users/:id/avatar
}
