package credstore_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/credstoretest"
)

func TestMemoryConformance(t *testing.T) {
	credstoretest.Run(t, func(t *testing.T) credstore.Store { return credstore.NewMemory() })
}
