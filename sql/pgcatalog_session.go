package sql

// SetUser names the role the session runs as: the user name a client
// connected with. current_user and session_user return it, and the
// catalog's one role (a superuser, oid 10) takes its name. Until it is
// set the role is "dormouse".
func (s *Session) SetUser(name string) {
	if name != "" {
		s.setSetting("session_authorization", name)
	}
}

// user is the role the session runs as.
func (s *Session) user() string {
	if u := s.settings["session_authorization"]; u != "" {
		return u
	}
	return "dormouse"
}
