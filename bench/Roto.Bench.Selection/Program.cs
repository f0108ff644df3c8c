Console.WriteLine("Roto.Bench.Selection: not written yet");
