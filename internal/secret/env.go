package secret

import (
	"fmt"
	"strings"
)

// FromEnv reads the credential NAME from the environment, or from the file named by
// NAME_FILE (mounted secrets are files). Setting both is an error, because one of them
// would be silently ignored. getenv is usually os.Getenv and readFile os.ReadFile.
func FromEnv(getenv func(string) string, readFile func(string) ([]byte, error), name string) (Secret, error) {
	value, file := getenv(name), strings.TrimSpace(getenv(name+"_FILE"))
	switch {
	case file == "":
		return Secret(value), nil
	case value != "":
		return "", fmt.Errorf("both %s and %s_FILE are set: use one", name, name)
	}
	b, err := readFile(file)
	if err != nil {
		// The path is not secret; the file system's error carries no content.
		return "", fmt.Errorf("reading %s_FILE: %w", name, err)
	}
	return Secret(strings.TrimRight(string(b), "\r\n")), nil
}
