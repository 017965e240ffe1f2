package api

import "github.com/djgrade/djgrade/grader/archive"

// readArchive unpacks an upload; it is a variable so that a test can make
// it fail in ways the real reader does not.
var readArchive = archive.Read
