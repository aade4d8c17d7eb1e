package store

// SwapSession makes the Tx act as sess until the returned restore function is called:
// the rows it writes in between carry sess's user (mi_createUser, mi_modifyUser,
// mi_owner, audit rows) and selects use sess's language. The runtime uses it for
// Session.runAsAdmin, runAsUser and switchLangForContext. Swaps nest: restore them in
// the reverse order (defer does). The transaction itself is unchanged: what was written
// before and after the swap commits or rolls back together.
func (tx *Tx) SwapSession(sess *Session) (restore func()) {
	if sess == nil {
		sess = System
	}
	outer := tx.sess
	tx.sess = sess
	return func() { tx.sess = outer }
}
