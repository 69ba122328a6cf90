//! Deploy targets. Local processes live in `engine` (they are the spine's); Docker
//! Compose is here. Kubernetes will join later.

pub mod compose;
