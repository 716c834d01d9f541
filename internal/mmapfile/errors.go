package mmapfile

import "errors"

// ErrUnsupported says the file cannot be mapped here; read it instead.
var ErrUnsupported = errors.New("memory mapping not supported")
