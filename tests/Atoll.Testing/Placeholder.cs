namespace Atoll.Testing;
