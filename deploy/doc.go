// Package deploy holds no code: this directory holds the files that run commentbot as a
// fleet (compose.yaml with haproxy.cfg and commentbot.yaml; kubernetes/), and its tests
// decode every one of them strictly and check them against each other and against the
// program (roles, ports, probe paths, secret keys), so that they cannot rot.
package deploy
