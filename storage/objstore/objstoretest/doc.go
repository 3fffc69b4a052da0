// Package objstoretest is the conformance suite every objstore.Store
// backend must pass. A backend's tests call Run with a function that
// returns a fresh, empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		objstoretest.Run(t, func(t *testing.T) objstore.Store {
//			s, err := local.New(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The subtests run in parallel, each on its own store, and after each one
// the suite checks the store's invariants: List is sorted and agrees with
// Stat.
package objstoretest
