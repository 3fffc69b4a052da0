package pgwire

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/dormousedb/dormouse/sql"
)

// startup runs the connection's start: SSL and GSSAPI encryption requests
// are refused ('N') and the client may go on in the clear; a
// CancelRequest is served and the connection closed (ok false); a
// StartupMessage opens the session.
func (c *conn) startup() (ok bool, err error) {
	for {
		m, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if isProtocolError(err) {
				c.fatal("08P01", "invalid startup packet: %v", err)
			}
			return false, err
		}
		switch m := m.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false, err
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return false, nil
		case *pgproto3.StartupMessage:
			return c.open(m)
		}
	}
}

// open starts the session a StartupMessage asks for. Any user is accepted
// without a password until authentication arrives; any database name
// means the store.
func (c *conn) open(m *pgproto3.StartupMessage) (bool, error) {
	c.sess = c.srv.Engine.NewSession()
	c.user = m.Parameters["user"]
	if c.user == "" {
		c.fatal("28000", "no PostgreSQL user name specified in startup packet")
		return false, nil
	}
	c.sess.SetUser(c.user)
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 {
		// We speak 3.0: say so, and go on as 3.0 (protocol 3.2 clients
		// accept this).
		c.w.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0})
	}
	var opts []string
	for k, v := range m.Parameters {
		switch k {
		case "user", "database", "replication":
		case "options":
			opts = append(opts, v)
		default:
			if err := c.setStartup(k, v); err != nil {
				c.w.send(errorResponse(err, "FATAL"))
				c.w.flush()
				return false, nil
			}
		}
	}
	for _, o := range opts {
		for k, v := range startupOptions(o) {
			if err := c.setStartup(k, v); err != nil {
				c.w.send(errorResponse(err, "FATAL"))
				c.w.flush()
				return false, nil
			}
		}
	}
	c.srv.register(c)
	c.w.send(&pgproto3.AuthenticationOk{})
	var key [4]byte
	binary.BigEndian.PutUint32(key[:], c.secret)
	c.reportSettings()
	c.w.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: key[:]})
	c.readyForQuery()
	return true, c.w.err
}

// setStartup applies a setting a client sent at startup. client_encoding
// must be one we send unconverted: UTF8, or SQL_ASCII (no conversion).
func (c *conn) setStartup(name, value string) error {
	if strings.EqualFold(name, "client_encoding") {
		switch strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(value, "-", ""), "_", "")) {
		case "UTF8", "UNICODE", "AUTO":
			value = "UTF8"
		case "SQLASCII":
			value = "SQL_ASCII"
		default:
			return errorf("0A000", "client encoding \"%s\" is not supported: Dormouse sends UTF8", value)
		}
	}
	return c.sess.Set(name, value)
}

// startupOptions reads the command-line options of the startup packet's
// "options": -c name=value and --name=value.
func startupOptions(s string) map[string]string {
	out := map[string]string{}
	f := strings.Fields(s)
	for i := 0; i < len(f); i++ {
		a := f[i]
		switch {
		case a == "-c" && i+1 < len(f):
			i++
			a = f[i]
		case strings.HasPrefix(a, "-c"):
			a = a[2:]
		case strings.HasPrefix(a, "--"):
			a = a[2:]
		default:
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok {
			out[strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	return out
}

// reportedSettings are the settings PostgreSQL reports in ParameterStatus
// at startup and whenever they change, with the names it reports them by.
var reportedSettings = []struct{ name, setting string }{
	{"application_name", "application_name"},
	{"client_encoding", "client_encoding"},
	{"DateStyle", "datestyle"},
	{"default_transaction_read_only", "default_transaction_read_only"},
	{"in_hot_standby", ""},
	{"integer_datetimes", "integer_datetimes"},
	{"IntervalStyle", "intervalstyle"},
	{"is_superuser", "is_superuser"},
	{"server_encoding", "server_encoding"},
	{"server_version", "server_version"},
	{"session_authorization", ""},
	{"standard_conforming_strings", "standard_conforming_strings"},
	{"TimeZone", "timezone"},
}

// reportSettings sends ParameterStatus for each reported setting whose
// value the client does not have yet.
func (c *conn) reportSettings() {
	gen := c.sess.SettingsGeneration()
	if c.reported == nil {
		c.reported = map[string]string{}
	} else if gen == c.reportedGen {
		return // no setting changed since the last report
	}
	c.reportedGen = gen
	for _, r := range reportedSettings {
		var v string
		switch r.name {
		case "in_hot_standby":
			v = "off"
		case "session_authorization":
			v = c.user
		default:
			v, _ = c.sess.Setting(r.setting)
		}
		if old, ok := c.reported[r.name]; ok && old == v {
			continue
		}
		c.reported[r.name] = v
		c.w.send(&pgproto3.ParameterStatus{Name: r.name, Value: v})
	}
}

// statementTimeout reads statement_timeout: milliseconds, or a number with
// a unit (ms, s, min, h, d); 0 is none.
func statementTimeout(s *sql.Session) time.Duration {
	v, _ := s.Setting("statement_timeout")
	v = strings.TrimSpace(v)
	if v == "" || v == "0" {
		return 0
	}
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"ms", time.Millisecond}, {"min", time.Minute}, {"s", time.Second}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	unit := time.Millisecond
	for _, u := range units {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			v, unit = strings.TrimSpace(rest), u.unit
			break
		}
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n * float64(unit))
}
