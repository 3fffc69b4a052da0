package flight

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/dormousedb/dormouse/flight/ticket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Authentication, until users arrive: every call is accepted without
// credentials, and a Handshake with HTTP basic credentials of any user
// answers with an "authorization: Bearer <token>" header, which clients
// such as the ADBC driver insist on and send on every later call. The
// token is signed with the store's key, so every serve process on the
// store accepts it; a bearer token that is not one is refused.

type tokenBody struct {
	User   string `json:"user"`
	Issued int64  `json:"iat"`
}

// authMiddleware returns the interceptors that implement the above.
func (s *Server) authMiddleware() flight.ServerMiddleware {
	return flight.ServerMiddleware{
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := s.checkBearer(ctx); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		},
		Stream: func(srv any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			ctx := stream.Context()
			if strings.HasSuffix(info.FullMethod, "/Handshake") {
				if user, ok := basicUser(ctx); ok {
					token, err := s.sign.Seal(ticket.KindToken, tokenBody{User: user, Issued: time.Now().Unix()})
					if err != nil {
						return status.Error(codes.Internal, err.Error())
					}
					if err := stream.SetHeader(metadata.Pairs("authorization", "Bearer "+base64.RawURLEncoding.EncodeToString(token))); err != nil {
						return err
					}
				}
				return handler(srv, stream)
			}
			if err := s.checkBearer(ctx); err != nil {
				return err
			}
			return handler(srv, stream)
		},
	}
}

// authorization returns the scheme and credential of a call's
// authorization header.
func authorization(ctx context.Context) (scheme, cred string) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return "", ""
	}
	scheme, cred, _ = strings.Cut(strings.TrimSpace(vals[0]), " ")
	return scheme, strings.TrimSpace(cred)
}

// basicUser returns the user name of basic credentials, if given.
func basicUser(ctx context.Context) (string, bool) {
	scheme, cred := authorization(ctx)
	if !strings.EqualFold(scheme, "basic") {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
			return "", false
		}
	}
	user, _, _ := strings.Cut(string(raw), ":")
	return user, true
}

// checkBearer refuses a call whose bearer token this store did not issue.
func (s *Server) checkBearer(ctx context.Context) error {
	scheme, cred := authorization(ctx)
	if !strings.EqualFold(scheme, "bearer") {
		return nil // none, or basic credentials of any user
	}
	raw, err := base64.RawURLEncoding.DecodeString(cred)
	if err == nil {
		var body tokenBody
		if err = s.sign.Open(ticket.KindToken, raw, &body); err == nil {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "invalid bearer token: authenticate again with a Handshake")
}
