namespace Roto.Client;
