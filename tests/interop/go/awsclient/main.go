// awsclient loads its AWS configuration the way Terraform's AWS provider does, with
// config.LoadDefaultConfig and nothing but the environment and the shared config files, retrieves
// the credentials the default chain resolves, and makes one signed call, STS GetCallerIdentity,
// to the endpoint given as its only argument (the SDK as Debian ships it, config 1.17, predates
// AWS_ENDPOINT_URL). It prints one JSON line: which provider the chain chose (its Source), the
// access key id it signed with, and the ARN STS answered. Any failure goes to stderr, exit 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "awsclient: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: awsclient ENDPOINT_URL")
	}
	endpoint := os.Args[1]
	ctx := context.Background()

	resolver := aws.EndpointResolverWithOptionsFunc(func(service, region string, _ ...interface{}) (aws.Endpoint, error) {
		return aws.Endpoint{URL: endpoint, SigningRegion: region, HostnameImmutable: true}, nil
	})
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEndpointResolverWithOptions(resolver))
	if err != nil {
		fail("loading the configuration: %v", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fail("retrieving credentials: %v", err)
	}
	identity, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail("GetCallerIdentity: %v", err)
	}
	out, err := json.Marshal(map[string]string{
		"source": creds.Source,
		"key":    creds.AccessKeyID,
		"region": cfg.Region,
		"arn":    aws.ToString(identity.Arn),
	})
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(string(out))
}
