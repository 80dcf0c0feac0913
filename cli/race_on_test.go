//go:build race

package cli

// raceDetector: this test binary runs under the race detector, which slows
// the models several times over; time limits are scaled by raceSlowdown.
const raceDetector, raceSlowdown = true, 10
