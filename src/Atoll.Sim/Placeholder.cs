namespace Atoll.Sim;
