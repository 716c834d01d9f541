package workflow_test

import (
	"fmt"

	"github.com/pubdoc/pubdoc/diagnose/workflow"
)

func ExampleCheck() {
	src := []byte(`name: Publish
on:
  release:
    types: [published]
permissions:
  contents: read
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm install -g npm@latest
      - run: npm publish
`)
	w, err := workflow.Parse(".github/workflows/publish.yml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range workflow.Check(w) {
		fmt.Printf("%s:%d %s %s (%s)\n", f.File, f.Line, f.Severity, f.ID, f.Rule)
	}
	for _, f := range w.Facts(w.PublishJob()) {
		fmt.Printf("%s:%d %s=%s\n", f.File, f.Line, f.Name, f.Value)
	}
	// Output:
	// publish.yml:16 error check-npm-upgrade-ebadengine (npm-upgrade-ebadengine)
	// publish.yml:1 workflow_file=publish.yml
	// publish.yml:2 triggers=release
	// publish.yml:5 packages_permission=none
	// publish.yml:7 id_token_permission=granted
	// publish.yml:10 runner=github-hosted
	// publish.yml:13 setup_node_version=v4
	// publish.yml:15 node_version=20
	// publish.yml:16 npm_upgrade=latest
	// publish.yml:17 publish_tool=npm
	// publish.yml:17 publish_command=npm publish
}
