package deploy

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Kubernetes and compose files run the image the release publishes
// (.goreleaser.yaml's dockers_v2), not a name that exists nowhere.
func TestFilesNameThePublishedImage(t *testing.T) {
	var rel struct {
		Dockers []struct {
			Images    []string `yaml:"images"`
			Platforms []string `yaml:"platforms"`
		} `yaml:"dockers_v2"`
	}
	if err := yaml.Unmarshal(readFile(t, "../.goreleaser.yaml"), &rel); err != nil {
		t.Fatal(err)
	}
	if len(rel.Dockers) != 1 || len(rel.Dockers[0].Images) != 1 {
		t.Fatalf(".goreleaser.yaml: want one image, have %+v", rel.Dockers)
	}
	image := rel.Dockers[0].Images[0]
	if image != "ghcr.io/pubdoc/pubdoc" || strings.Join(rel.Dockers[0].Platforms, " ") != "linux/amd64 linux/arm64" {
		t.Errorf(".goreleaser.yaml publishes %s for %v", image, rel.Dockers[0].Platforms)
	}

	var k struct {
		Images []struct {
			Name    string `yaml:"name"`
			NewName string `yaml:"newName"`
		} `yaml:"images"`
	}
	if err := yaml.Unmarshal(readFile(t, "k8s/kustomization.yaml"), &k); err != nil {
		t.Fatal(err)
	}
	if len(k.Images) != 1 || k.Images[0].Name != image || k.Images[0].NewName != image {
		t.Errorf("kustomization.yaml images: %+v, want %s", k.Images, image)
	}
	var dep struct {
		Spec struct {
			Template struct {
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(readFile(t, "k8s/deployment.yaml"), &dep); err != nil {
		t.Fatal(err)
	}
	for _, c := range dep.Spec.Template.Spec.Containers {
		if !strings.HasPrefix(c.Image, image+":") {
			t.Errorf("deployment.yaml runs %s, want %s:<tag>", c.Image, image)
		}
	}
	var compose struct {
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(readFile(t, "docker-compose.yml"), &compose); err != nil {
		t.Fatal(err)
	}
	if got := compose.Services["pubdoc"].Image; !strings.HasPrefix(got, image+":") {
		t.Errorf("docker-compose.yml runs %s, want %s:<tag>", got, image)
	}
	for _, f := range []string{"Dockerfile", "Dockerfile.release"} {
		src := string(readFile(t, f))
		for _, want := range []string{"distroless/static-debian12:nonroot", "USER 65532:65532", `ENTRYPOINT ["/pubdoc"]`, `CMD ["serve"]`, "PUBDOC_DATA_DIR=/data"} {
			if !strings.Contains(src, want) {
				t.Errorf("%s lacks %q: the release image must match the one built from a checkout", f, want)
			}
		}
	}
}
