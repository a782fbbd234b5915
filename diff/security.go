package diff

// Security names a way a difference weakens what protects the client; "" when it
// does not.
type Security string
