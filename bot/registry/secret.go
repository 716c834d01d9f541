package registry

import "github.com/pubdoc/pubdoc/internal/secret"

// Secret is a credential such as an npm token; it never prints (see internal/secret).
type Secret = secret.Secret
