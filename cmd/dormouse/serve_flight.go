package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/dormousedb/dormouse/flight"
	"github.com/dormousedb/dormouse/sql"
)

// flightFlags are serve's Arrow Flight SQL flags.
type flightFlags struct {
	listen    *string
	advertise *string
}

func addFlightFlags(fs *flag.FlagSet) *flightFlags {
	return &flightFlags{
		listen: fs.String("flight-listen", flight.DefaultAddr, "answer Arrow Flight SQL (ADBC, JDBC) on this address; \"\" for none"),
		advertise: fs.String("flight-advertise", "", "comma-separated HOST:PORT of the serve processes sharing the store, named as the\n"+
			"locations of query endpoints (default: none, clients read where they asked)"),
	}
}

// start listens for Flight SQL and returns the loop that serves it until
// its context ends, or nil when Flight SQL is off. Listening happens now,
// so that a port in use fails the command at once.
func (f *flightFlags) start(ctx context.Context, eng *sql.Engine, log *slog.Logger) (func(context.Context) error, error) {
	if *f.listen == "" {
		return nil, nil
	}
	var adv []string
	for _, a := range strings.Split(*f.advertise, ",") {
		if a = strings.TrimSpace(a); a != "" {
			adv = append(adv, a)
		}
	}
	srv, err := flight.New(ctx, eng, flight.Options{Advertise: adv, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", *f.listen)
	if err != nil {
		return nil, fmt.Errorf("flight sql: %w", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, port)
	log.Info("serving Arrow Flight SQL", "addr", ln.Addr().String())
	fmt.Printf("Flight SQL (ADBC, JDBC): grpc://%s   jdbc:arrow-flight-sql://%s?useEncryption=false\n", addr, addr)
	return func(ctx context.Context) error { return srv.Serve(ctx, ln) }, nil
}
